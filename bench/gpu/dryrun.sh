#!/usr/bin/env bash
# dryrun.sh runs bench/gpu_check.sh end to end without a GPU, to check the
# script itself before a GPU session spends device time on it: the binaries
# are built on the CPU emulator of the kernels (build.sh with TAGS=cudaemu),
# nvidia-smi is a stand-in that prints one line, stepbench times the tiny
# workload, compare runs smaller ensembles, and the end-to-end training and
# the peers are skipped. Every
# step must finish (`make gpu-check-dryrun`, about 13 minutes on 2 cores).
# Its numbers are the emulator's and mean nothing about a GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
TAGS=cudaemu BIN="$tmp/bin" bash bench/gpu/build.sh >/dev/null
mkdir -p "$tmp/path"
cat >"$tmp/path/nvidia-smi" <<'SMI'
#!/bin/sh
echo "name, memory.total [MiB]"
echo "CPU emulator (dry run), 0 MiB"
SMI
chmod +x "$tmp/path/nvidia-smi"
PATH="$tmp/path:$PATH" BIN="$tmp/bin" OUT="$tmp/out" E2E_LIMIT=0 QUICK=1 WORKS=tiny GPU_TEST_LIMIT=600 PEAK_SCALE=0.0002 PEAK_REPS=1 \
	COMPARE_ARGS="--steps 3 --hidden 64 --seeds 4 --batch 16 --lr 1e-3" bash bench/gpu_check.sh >"$tmp/log" 2>&1 || true
cat "$tmp/out/summary.txt"
for f in summary.txt gpu_check.log conformance.txt stepbench.json; do
	if [ ! -s "$tmp/out/$f" ]; then
		echo "dryrun: gpu_check wrote no $f" >&2
		exit 1
	fi
done
if grep -E "FAILED|TIMED OUT" "$tmp/out/summary.txt"; then
	echo "dryrun: a gpu_check step failed (log: above, and $tmp/out/gpu_check.log while this runs)" >&2
	exit 1
fi
echo "dryrun: every gpu_check step ran"
