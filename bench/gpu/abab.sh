#!/usr/bin/env bash
# abab.sh times one training step (stepbench, the default tensor-core and
# backward settings, both cells) under each configuration below in turn,
# ROUNDS times (default 2): a drift of the card's clocks then shows between
# rounds instead of between configurations. bench/gpu_check.sh runs it on
# the GPU host, with the binaries and PTX variants bench/gpu/build.sh puts in
# $BIN (a configuration whose PTX is missing is skipped: the emulator's dry
# run has none).
#
#   ref         ref.ptx: the kernels of the last version measured on a GPU
#   new         the kernels embedded in stepbench (the defaults)
#   groups2     DEGEN_GROUPS=2: two warp groups per block
#   unroll2     the tile GEMM's k loop unrolled twice (TILE_K_UNROLL=2)
#   r4x4        rnn_forward_r4 and rnn_backward_r4 held to 64 registers,
#               four blocks per SM (R4_MIN_BLOCKS=4; W2 only)
#   wgmma-grad  DEGEN_WGMMA=grad: the weight gradients on the warpgroup MMA
#   wgmma       DEGEN_WGMMA=auto: the forward and backward too
set -u
BIN=${BIN:-.devcarry}
ROUNDS=${ROUNDS:-2}
WORKS=${WORKS:-W1,W2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "$BIN"/ptx-*.ptx.gz; do
	[ -f "$f" ] && gunzip -c "$f" >"$tmp/$(basename "$f" .gz)"
done
# run LABEL WORKS PTX GROUPS [VAR=VALUE...]: one stepbench run (PTX: a file
# name in $tmp, or - for the embedded kernels; GROUPS: DEGEN_GROUPS, or
# default; then environment variables), its rows labelled.
run() {
	local label=$1 works=$2 ptx=$3 groups=$4
	shift 4
	local env=("$@")
	if [ "$ptx" != - ]; then
		[ -f "$tmp/$ptx" ] || return 0
		env+=(DEGEN_PTX="$tmp/$ptx")
	fi
	env ${env[@]+"${env[@]}"} timeout 120 "$BIN/stepbench" -works "$works" -reps 10 -cells both -mma default -backward default -groups "$groups" 2>&1 |
		grep -E "^(W1|W2|tiny) |rror" | sed "s/^/$(printf '%-10s' "$label") /"
}
w2=W2
[ "$WORKS" = tiny ] && w2=tiny
for round in $(seq "$ROUNDS"); do
	echo "== round $round"
	run ref "$WORKS" ptx-ref.ptx default
	run new "$WORKS" - default
	run groups2 "$WORKS" - 2
	run unroll2 "$WORKS" ptx-unroll2.ptx default
	run r4x4 "$w2" ptx-r4x4.ptx default
	run wgmma-grad "$WORKS" - default DEGEN_WGMMA=grad
	run wgmma "$WORKS" - default DEGEN_WGMMA=auto
done
