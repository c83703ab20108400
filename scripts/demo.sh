#!/usr/bin/env bash
# README command (1): install, build, and run the main job on built-in data.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/apps/spikeline/spikeline demo --out demo-output "$@"
