#!/usr/bin/env bash
# Times `spikeline data prepare` on all 46 subjects of ../shared/data/wisdm (read 93 gzipped raw
# files, join, cut 150k windows of 40 x 6, split, write the .npz and its sidecar): the median of
# 3 runs. Target: under 10 s on 2 cores. Prints one JSON line.
# Usage: bench/data_prepare.sh [spikeline binary] [threads]
#   defaults: build/apps/spikeline/spikeline (or $SPIKELINE_CLI), 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=${1:-${SPIKELINE_CLI:-build/apps/spikeline/spikeline}}
threads=${2:-2}
wisdm=${SPIKELINE_SHARED:-../shared}/data/wisdm
[ -d "$wisdm/raw" ] || { echo "data_prepare.sh: $wisdm/raw not found (it exists on developer machines only)" >&2; exit 2; }
[ -x "$cli" ] || { echo "data_prepare.sh: no spikeline binary at $cli (build first, or pass its path)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

times=()
for run in 1 2 3; do
  start=$(date +%s%N)
  "$cli" data prepare --wisdm "$wisdm" --out "$out/windows.npz" --threads "$threads" --quiet > "$out/summary.txt"
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  times+=("$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))")
done
median=$(printf '%s\n' "${times[@]}" | sort -g | sed -n 2p)
windows=$(grep -E '^ +all ' "$out/summary.txt" | awk '{print $NF}')
bytes=$(stat -c %s "$out/windows.npz")
printf '{"bench":"data_prepare","subjects":46,"threads":%s,"windows":%s,"npz_bytes":%s,"runs_s":[%s],"median_s":%s,"target_s":10}\n' \
  "$threads" "$windows" "$bytes" "$(IFS=,; echo "${times[*]}")" "$median"
