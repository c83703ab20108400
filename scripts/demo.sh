#!/usr/bin/env bash
# README command (1): install, build, and run the whole pipeline on built-in synthetic data
# (configs/pipeline_demo.yaml: data -> encoding -> task choice -> architecture search -> training
# -> Xylo quantisation tuning -> deployment bundle), printing where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/apps/spikeline/spikeline pipeline --config configs/pipeline_demo.yaml --out runs/pipeline-demo "$@"
