#!/usr/bin/env bash
# herdctl's benchmarks, P1-P12 of docs/performance.md: boots a
# systemd-nspawn machine with herdctl.service (real systemd and journald)
# and measures each figure against its floor in the same run. Prints the
# table, writes bench/results.json and docs/performance.table.md. Never
# fails on a figure. HERDCTL_BENCH=P1,P7 runs only those. Needs root.
# The harness is bench/bench_test.go.
set -euo pipefail
cd "$(dirname "$0")/.."
HERDCTL_E2E=1 HERDCTL_BENCH=${HERDCTL_BENCH:-1} go test -count=1 -v -timeout 6h -run '^TestBench$' ./bench
