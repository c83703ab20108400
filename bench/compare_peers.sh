#!/usr/bin/env bash
# Spikeline against the plain PyTorch training loop on the identical reference workload
# (../shared/bench/peers: same weights and inputs, hence the same spike activity), side by side in
# one run; prints one JSON line per (net, batch, mode) with both throughputs and their ratio.
# Needs Debian's python3-torch python3-numpy libopenblas0-openmp and ../shared (developer machines).
# Usage: bench/compare_peers.sh [batch ...]     (default: 1024 128)
set -euo pipefail
cd "$(dirname "$0")/.."
peers=../shared/bench/peers
[ -d "$peers" ] || { echo "compare_peers.sh: $peers not found (it exists on developer machines only)" >&2; exit 2; }
[ -x build/apps/spikeline/spikeline ] || scripts/build.sh
exec bash "$peers/compare.sh" "$PWD/build/apps/spikeline/spikeline" "$@"
