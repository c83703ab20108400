#!/usr/bin/env bash
# Installs the Debian 12 packages Spikeline needs to build and test. Idempotent.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libcli11-dev libfmt-dev zlib1g-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsqlite3-dev                # experiment store (hpo)
  libcpp-httplib-dev            # dashboard HTTP server (header-only)
  clang-14 libclang-rt-14-dev   # sanitizer + libFuzzer configuration
)
# Packages only the test suite needs (scripts/test.sh passes --test): a headless browser for the
# dashboard's end-to-end test.
if [ "${1:-}" = "--test" ]; then
  packages+=(chromium chromium-driver slurm-wlm munge)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
