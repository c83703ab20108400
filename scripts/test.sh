#!/usr/bin/env bash
# README command (2): install, build and run the whole test suite:
#   1. Release build: unit + end-to-end tests (ctest);
#   2. clang build with AddressSanitizer + UndefinedBehaviorSanitizer: unit tests, then every
#      libFuzzer target for a short run over its committed corpus.
# Tests that need ../shared skip visibly when it is absent, and fail under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
jobs=$(nproc)
fuzz_seconds=${SPIKELINE_FUZZ_SECONDS:-10}

echo "== Release build and tests"
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$jobs"
if [ "${CI:-}" = true ]; then
  # README command (1) minus its install and build steps, which this script has just done.
  echo "== README quick start: the pipeline demo on built-in synthetic data"
  demo_dir=$(mktemp -d)
  build/apps/spikeline/spikeline pipeline --config configs/pipeline_demo.yaml --out "$demo_dir/pipeline-demo" --quiet
  test -s "$demo_dir/pipeline-demo/report.html"
  rm -rf "$demo_dir"
fi
if [ "${SPIKELINE_SLURM_TESTS:-}" = 1 ] || [ "${CI:-}" = true ]; then
  echo "== Slurm integration test (one-node cluster on localhost)"
  tests/slurm/run.sh build/apps/spikeline/spikeline
fi

echo "== ASan + UBSan build (clang), unit tests and fuzz targets"
CC=clang-14 CXX=clang++-14 cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSPIKELINE_SANITIZE=ON -DSPIKELINE_BUILD_FUZZ=ON -DSPIKELINE_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests fuzzers
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
for fuzzer in build-asan/tests/fuzz/fuzz_*; do
  [ -x "$fuzzer" ] || continue
  name=$(basename "$fuzzer")
  corpus=tests/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
  echo "-- $name: ${fuzz_seconds}s"
  "$fuzzer" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
    "$work" >"$work.log" 2>&1 || { tail -40 "$work.log"; echo "$name FAILED"; exit 1; }
  rm -rf "$work" "$work.log"
done
echo "All tests passed."
