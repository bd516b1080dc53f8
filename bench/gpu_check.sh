#!/usr/bin/env bash
# gpu_check.sh runs every check that needs an NVIDIA GPU, in order, each step
# time-boxed, and writes the log and a short table to $OUT (default
# ./gpu-check-out): `make gpu-check` on a GPU host.
#
#   1. nvidia-smi                       the card as found
#   2. degen-cuda devices               our view of it
#   3. cuda.test                        launch argument and shape errors
#                                       (the wgmma tests apart, step 4b)
#   3b. peak                            the card's FMA, mma.sync and wgmma TF32 rates,
#                                       and both pipes at once (bench/gpu/peak)
#   4. gpu.test                         conformance against the float64 CPU
#                                       reference, fault messages, long batches
#   4b. wgmma.cuda, wgmma.gpu           the warpgroup MMA: layouts on this card
#                                       (wgmma_selftest), DEGEN_WGMMA=grad, fwd, bwd
#   5. degen-cuda compare               3 steps of 16 networks against the
#                                       float64 CPU reference, per tensor;
#                                       again with DEGEN_MMA=off (CUDA cores)
#                                       and on (tensor cores), with two
#                                       warp groups (DEGEN_GROUPS=2), and with
#                                       the forward, the backward and all
#                                       three on the warpgroup MMA
#                                       (DEGEN_WGMMA=fwd, bwd, on)
#   6. stepbench                        one training step on W1 and W2: batch
#                                       shared, uploaded per network, and
#                                       generated on the device (gen, task N=S);
#                                       the defaults, CUDA cores and tensor
#                                       cores, backward split and fused, one
#                                       and two warp groups (fwd, bwd, dW
#                                       columns)
#   6b. abab                            the defaults against the last version
#                                       measured (ptx-ref) and the candidates
#                                       (two warp groups, PTX variants, the
#                                       warpgroup MMA), in alternation
#                                       (bench/gpu/abab.sh)
#   7. e2e train -backend gpu           256 flip-flop networks of H=128 with
#                                       degen.Train, test losses; then every
#                                       GPU-converged network against the CPU
#                                       after the same steps (e2e compare -curve)
#   8. torch and jax peers              the same workloads (bench/peers)
#
# The speed numbers come before the end-to-end training, so that a device
# call cut short still brings them back.
# QUICK=1 skips the peers; E2E_LIMIT (default 80s) bounds the training, 0 skips it;
# E2E_ENV="VAR=VALUE ..." trains and checks it a second time under those
# settings (e.g. DEGEN_WGMMA=auto);
# WORKS (default W1,W2) names stepbench's workloads (tiny for a dry run);
# COMPARE_ARGS replaces the compare steps' sizes (smaller for a dry run);
# PEAK_SCALE (default 1) scales the peak probe's work and PEAK_REPS (default
# 5) sets its timed launches (both small for a dry run);
# GPU_TEST_LIMIT (default 120) bounds gpu.test, in seconds; ABAB=0 skips the
# alternating comparison (about 2.5 minutes on an H200 by estimate; ROUNDS,
# default 2, sets its rounds).
#
# The GPU host needs no Go: the binaries come prebuilt (and gzipped) in $BIN
# (default .devcarry), made on a development machine by bench/gpu/build.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.devcarry}
OUT=${OUT:-gpu-check-out}
mkdir -p "$OUT"
LOG="$OUT/gpu_check.log"
SUM="$OUT/summary.txt"
: >"$LOG"
: >"$SUM"
export PYTHONUNBUFFERED=1

# bench/gpu/build.sh gzips the binaries (the device tool's carry limit).
for f in degen-cuda cuda.test gpu.test e2e stepbench peak; do
	if [ -f "$BIN/$f.gz" ]; then
		gunzip -c "$BIN/$f.gz" >"$BIN/$f" && chmod +x "$BIN/$f"
	fi
	if [ ! -x "$BIN/$f" ]; then
		echo "gpu_check: $BIN/$f missing; build it with bench/gpu/build.sh" | tee -a "$SUM" >&2
		exit 1
	fi
done
if ! command -v nvidia-smi >/dev/null 2>&1; then
	echo "gpu_check: nvidia-smi not found: no NVIDIA driver on this machine" | tee -a "$SUM" >&2
	exit 1
fi

# step NAME LIMIT CMD...: run CMD with a time limit, log its output, and
# record its exit status and duration in the summary.
step() {
	local name=$1 limit=$2
	shift 2
	echo "=== $name (limit ${limit}s): $*" | tee -a "$LOG"
	local t0=$(date +%s%N)
	timeout -k 5 "$limit" "$@" 2>&1 | tee -a "$LOG"
	local rc=${PIPESTATUS[0]}
	local ms=$((($(date +%s%N) - t0) / 1000000))
	local verdict=ok
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then verdict="TIMED OUT"; elif [ "$rc" != 0 ]; then verdict="FAILED rc=$rc"; fi
	printf '%-12s %-16s %6d.%01ds\n' "$name" "$verdict" $((ms / 1000)) $((ms % 1000 / 100)) | tee -a "$SUM"
}

step nvidia-smi 20 nvidia-smi --query-gpu=name,memory.total,memory.used,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw --format=csv
step devices 30 "$BIN/degen-cuda" devices
# cuda.test includes mma_selftest: the tensor-core fragment layout on this card.
# The warpgroup-MMA tests run apart (step wgmma.test), so that a fault of a
# kernel never run on a GPU before cannot end the other tests' context.
step cuda.test 60 "$BIN/cuda.test" -test.v -test.count=1 -test.skip Wgmma
# What the arithmetic pipes can do, which bounds the kernels: seconds on a
# GPU; the dry run's emulator needs about a minute even with PEAK_REPS=1.
step peak 150 "$BIN/peak" -scale "${PEAK_SCALE:-1}" -reps "${PEAK_REPS:-5}"
# GPU_TEST_LIMIT: seconds for gpu.test (34 on the H200; the emulator's dry run needs minutes).
gpu_test_limit=${GPU_TEST_LIMIT:-120}
step gpu.test "$gpu_test_limit" "$BIN/gpu.test" -test.v -test.count=1 -test.skip Wgmma -test.timeout=$((gpu_test_limit - 10))s
# wgmma_selftest and TestWgmmaRounding (the warpgroup MMA's layouts and
# rounding on this card), the wgmma probe, and the conformance, exactness and
# long-gradient checks of the warpgroup-MMA weight gradients, forward and backward.
step wgmma.cuda 60 "$BIN/cuda.test" -test.v -test.count=1 -test.run Wgmma
step wgmma.gpu "$gpu_test_limit" "$BIN/gpu.test" -test.v -test.count=1 -test.run Wgmma -test.timeout=$((gpu_test_limit - 10))s
grep -E "^(--- FAIL|FAIL|ok|PASS)|worst element|tolerance" "$LOG" | grep -v "^=== RUN" | tail -n 60 >"$OUT/conformance.txt"
# lr 1e-3: from a cold Adam state the first updates are about lr*sign(g), so
# at the default 1e-2 rounding in near-zero gradients moves parameters and
# moments beyond any float32 tolerance on every backend (bench/RESULTS.md).
read -ra compare_args <<<"${COMPARE_ARGS:---steps 3 --hidden 128 --seeds 16 --batch 32 --lr 1e-3}"
step compare 60 "$BIN/degen-cuda" compare "${compare_args[@]}"
# The same with every GEMM on the CUDA cores (float32), and with every GEMM
# on the tensor cores (3xTF32: forward, split backward, weight gradients).
step compare-off 60 env DEGEN_MMA=off "$BIN/degen-cuda" compare "${compare_args[@]}"
step compare-mma 60 env DEGEN_MMA=on DEGEN_BACKWARD=split "$BIN/degen-cuda" compare "${compare_args[@]}"
step compare-g2 60 env DEGEN_GROUPS=2 "$BIN/degen-cuda" compare "${compare_args[@]}"
step compare-wgfwd 60 env DEGEN_WGMMA=fwd "$BIN/degen-cuda" compare "${compare_args[@]}"
step compare-wgbwd 60 env DEGEN_WGMMA=bwd "$BIN/degen-cuda" compare "${compare_args[@]}"
step compare-wgmma 60 env DEGEN_WGMMA=on "$BIN/degen-cuda" compare "${compare_args[@]}"
step stepbench 180 "$BIN/stepbench" -works "${WORKS:-W1,W2}" -reps 10 -cells both -mma default,off,auto -backward default,auto -groups default,2 -json "$OUT/stepbench.json"
if [ "${ABAB:-1}" != 0 ]; then
	step abab 300 env BIN="$BIN" WORKS="${WORKS:-W1,W2}" ROUNDS="${ROUNDS:-2}" bash bench/gpu/abab.sh
fi
if [ "${E2E_LIMIT:-80s}" != 0 ]; then
rm -rf /tmp/degen-e2e-gpu
step e2e 110 "$BIN/e2e" train -backend gpu -dir /tmp/degen-e2e-gpu -seeds 256 -hidden 128 -max-epochs 30 -time-limit ${E2E_LIMIT:-80s}
cp /tmp/degen-e2e-gpu/testloss.json "$OUT/testloss.json" 2>/dev/null
cp /tmp/degen-e2e-gpu/run.json "$OUT/run.json" 2>/dev/null
# Every network that converged on the GPU against the CPU network from the
# same seed after the same steps (the CPU side was trained offline by
# `e2e curve`, bench/gpu/results/e2e-cpu-curve.json), judged against how
# far float64 CPU training drifts from float32 (e2e-cpu64-curve.json).
step e2e-vs-cpu 30 "$BIN/e2e" compare -gpu /tmp/degen-e2e-gpu -curve bench/gpu/results/e2e-cpu-curve.json -calib bench/gpu/results/e2e-cpu64-curve.json
# E2E_ENV="VAR=VALUE ...": the same a second time under those settings,
# before making them the default (about 2 minutes more): DEGEN_MMA=auto (every
# GEMM on the tensor cores), DEGEN_WGMMA=auto, DEGEN_GROUPS=2.
if [ -n "${E2E_ENV:-}" ]; then
read -ra e2e_env <<<"$E2E_ENV"
rm -rf /tmp/degen-e2e-variant
step e2e-variant 110 env "${e2e_env[@]}" "$BIN/e2e" train -backend gpu -dir /tmp/degen-e2e-variant -seeds 256 -hidden 128 -max-epochs 30 -time-limit ${E2E_LIMIT:-80s}
cp /tmp/degen-e2e-variant/testloss.json "$OUT/testloss-variant.json" 2>/dev/null
step e2e-variant-vs-cpu 30 "$BIN/e2e" compare -gpu /tmp/degen-e2e-variant -curve bench/gpu/results/e2e-cpu-curve.json -calib bench/gpu/results/e2e-cpu64-curve.json
fi
fi
if [ -z "${QUICK:-}" ]; then
	step torch 80 python3 bench/peers/torch_peers.py
	step jax 80 python3 bench/peers/jax_peers.py
fi

{
	echo
	echo "--- ours (stepbench; kernels = the four launches with the batch on the device; task N=S = StepTask, per-network batches generated on the device)"
	sed -n '/^work /,$p' "$LOG" | grep -E "^(work|W1|W2|tiny) " | head -n 20
	echo "--- fastest variants (default = kernels / task step ms)"
	python3 bench/gpu/fastest.py "$OUT/stepbench.json" 2>&1 || true
	echo "--- abab (kernels ms per round and median; vs ref: against the last version measured)"
	python3 bench/gpu/abab_summary.py "$LOG" 2>&1 || true
	echo "--- peak (bench/gpu/peak: the card's ceilings)"
	awk '/^(probe  |device: )/{on=1} /^=== /{on=0} on' "$LOG" | head -n 14
	echo "--- peers"
	grep -E "step .* ms" "$LOG" | grep -E "torch|jax|cudnn" || true
	echo "--- tensor-core rounding (the emulator's model: rows 0-2 [1 -1 1], 1 + 2^-k exact for k <= 23)"
	grep -E "exact for k <=|bits below the largest addend" "$LOG" | sed 's/^ *//' | sort -u || true
	echo "--- conformance"
	grep -cE "^    --- PASS" "$LOG" | sed 's/^/subtests passed: /'
	grep -E "^    --- FAIL|^--- FAIL" "$LOG" | head -n 20 || true
	echo "--- e2e"
	grep -E "^e2e gpu|^GPU: |^PASS: |^calibration|^bias|^spread|^e2e: " "$LOG" | tail -n 14
} | tee -a "$SUM"
