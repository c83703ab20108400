#!/bin/sh
# Trial of the Slurm integration test (tests/slurm/run.sh): reads x and y, reports a flat curve
# of 100 and the final metric x + y. Sequence 5 instead reports 0 until it is stopped, so
# Medianstop (start_step 2) kills it at its second report; it notes the SIGINT it gets.
set -eu
trap 'echo "trial: got SIGINT"; exit 130' INT
params=$("$SPIKELINE" hpo params)
x=$(echo "$params" | sed -n 's/.*"x": \([-0-9.e]*\).*/\1/p')
y=$(echo "$params" | sed -n 's/.*"y": \([-0-9.e+]*\).*/\1/p')
echo "trial: seq $NNI_TRIAL_SEQ_ID params $params slurm job ${SLURM_JOB_ID:-none}"
if [ "$NNI_TRIAL_SEQ_ID" = 5 ]; then
  i=0
  while [ $i -lt 240 ]; do
    "$SPIKELINE" hpo report --intermediate 0
    sleep 0.25
    i=$((i + 1))
  done
  exit 0
fi
"$SPIKELINE" hpo report --intermediate 100
"$SPIKELINE" hpo report --intermediate 100
"$SPIKELINE" hpo report --final "$(awk -v x="$x" -v y="$y" 'BEGIN { printf "%.6f", x + y }')"
