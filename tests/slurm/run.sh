#!/usr/bin/env bash
# Slurm integration test (docs/slurm.md): starts a one-node Slurm cluster on this machine
# (scripts/slurm-local.sh; needs root and the Debian packages slurm-wlm munge), runs a 6-trial
# experiment at concurrency 2 through Slurm and the same experiment with local processes (same
# seed), and checks
#   - every Slurm trial really ran as a Slurm job (job id file, SLURM_JOB_ID in its output);
#   - parameters, statuses and final metrics agree per sequence id between the two runs;
#   - sequence 5 was stopped by Medianstop: EARLY_STOPPED, and the trial saw SIGINT
#     (scancel --signal=INT --full), not only the plain cancel;
#   - a controller killed with -9 while a trial job runs re-attaches to it on `hpo resume`.
# The daemons are stopped by PID at the end, also on failure.
#   usage: tests/slurm/run.sh [path/to/spikeline]    (default: build/apps/spikeline/spikeline)
set -euo pipefail
[ "$(id -u)" -eq 0 ] || exec sudo -E "$0" "$@"  # the daemons need root
repo=$(cd "$(dirname "$0")/../.." && pwd)
SPIKELINE=$(realpath "${1:-$repo/build/apps/spikeline/spikeline}")
export SPIKELINE
[ -x "$SPIKELINE" ] || { echo "slurm test: no spikeline binary at $SPIKELINE" >&2; exit 1; }

work=$(mktemp -d /tmp/spikeline-slurm-test.XXXXXX)
cleanup() {
  "$repo/scripts/slurm-local.sh" stop "$work/cluster" || true
  if [ "${keep:-0}" = 1 ]; then echo "slurm test: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
fail() {
  echo "slurm test: FAILED: $*" >&2
  keep=1
  exit 1
}
start_s=$SECONDS

"$repo/scripts/slurm-local.sh" start "$work/cluster"

mkdir -p "$work/code"
cp "$repo/tests/slurm/trial.sh" "$work/code/trial.sh"
# $1: experiment name, $2: trainingService block, $3: max trials
write_config() {
  cat <<EOF
experimentName: $1
trialCommand: sh ./trial.sh
trialCodeDirectory: $work/code
trialConcurrency: 2
maxTrialNumber: $3
searchSpace:
  x: {_type: choice, _value: [1, 2, 3, 4, 5, 6, 7, 8]}
  y: {_type: uniform, _value: [0, 1]}
tuner: {name: Random}
assessor: {name: Medianstop, classArgs: {optimize_mode: maximize, start_step: 2}}
seed: 11
$2
EOF
}
slurm_ts='trainingService: {platform: slurm, poll_interval: 1, kill_grace: 2, exit_file_wait: 5}'
write_config local-run 'trainingService: {platform: local}' 6 >"$work/local.yaml"
write_config slurm-run "$slurm_ts" 6 >"$work/slurm.yaml"

run_experiment() {  # $1: config, $2: root; sets exp_id
  "$SPIKELINE" hpo run --config "$1" --root "$2" --foreground >"$2.log" 2>&1 ||
    { cat "$2.log" >&2; fail "hpo run --config $1"; }
  exp_id=$(sed -n 's/^experiment \([a-z0-9]*\) in .*/\1/p' "$2.log" | head -n1)
}
# sequence_id,status,x,y,final_value of every trial (trial ids and times differ between runs)
summary() { "$SPIKELINE" hpo export "$1" --root "$2" --format csv | cut -d, -f1,3-6; }

echo "== local run"
run_experiment "$work/local.yaml" "$work/local"
local_id=$exp_id
echo "== Slurm run"
run_experiment "$work/slurm.yaml" "$work/slurm"
slurm_id=$exp_id
summary "$local_id" "$work/local" >"$work/local.csv"
summary "$slurm_id" "$work/slurm" >"$work/slurm.csv"
cat "$work/slurm.csv"

diff "$work/local.csv" "$work/slurm.csv" || fail "Slurm results differ from the local run"
[ "$(grep -c ',SUCCEEDED,' "$work/slurm.csv")" = 5 ] || fail "expected 5 SUCCEEDED trials"
grep -q '^5,EARLY_STOPPED,' "$work/slurm.csv" || fail "sequence 5 is not EARLY_STOPPED"

n=0
for t in "$work/slurm/$slurm_id/trials"/*/; do
  job=$(cat "$t/slurm_job_id" 2>/dev/null) || fail "$t has no slurm_job_id"
  grep -q "slurm job $job\$" "$t/trial.stdout" || fail "$t/trial.stdout does not show Slurm job $job"
  n=$((n + 1))
done
[ "$n" = 6 ] || fail "expected 6 trial directories, found $n"
stopped=$(grep -l "seq 5 " "$work/slurm/$slurm_id"/trials/*/trial.stdout)
grep -q "trial: got SIGINT" "$stopped" || fail "the stopped trial did not get SIGINT ($stopped)"

echo "== controller killed while a trial job runs, then resumed"
# One trial (sequence 0 of 2 reports a flat curve and ends); the re-attached job must be collected.
write_config reattach "$slurm_ts" 1 | sed 's/^trialCommand: .*/trialCommand: sleep 6 \&\& sh .\/trial.sh/' \
  >"$work/reattach.yaml"
"$SPIKELINE" hpo run --config "$work/reattach.yaml" --root "$work/re" --foreground >"$work/re.log" 2>&1 &
controller=$!
for _ in $(seq 100); do
  ls "$work/re"/*/trials/*/slurm_job_id >/dev/null 2>&1 && break
  sleep 0.1
done
kill -9 "$controller"
wait "$controller" 2>/dev/null || true
re_id=$(sed -n 's/^experiment \([a-z0-9]*\) in .*/\1/p' "$work/re.log" | head -n1)
[ -n "$re_id" ] || { cat "$work/re.log" >&2; fail "the controller printed no experiment id"; }
squeue -h -n "${re_id}_0" | grep -q . || fail "the trial job is not in the queue after the controller died"
"$SPIKELINE" hpo resume "$re_id" --root "$work/re" --foreground >"$work/re-resume.log" 2>&1 ||
  { cat "$work/re-resume.log" >&2; fail "hpo resume"; }
grep -q "re-attached" "$work/re-resume.log" || { cat "$work/re-resume.log" >&2; fail "resume did not re-attach"; }
summary "$re_id" "$work/re" | grep -q '^0,SUCCEEDED,' || fail "the re-attached trial did not succeed"

echo "slurm test: passed in $((SECONDS - start_s)) s"
