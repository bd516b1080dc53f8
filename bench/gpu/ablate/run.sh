#!/usr/bin/env bash
# run.sh (copied to $BIN/ablate.sh by build.sh) times one training step of
# W1 and W2 with each PTX variant of build.sh (DEGEN_PTX), on the GPU host:
# `bash .devcarry/ablate.sh`, carrying .devcarry. MMA (default: default,auto)
# names the DEGEN_MMA settings to time. Writes $OUT/ablate.txt. The variants
# compute wrong numbers; only their times mean anything.
set -u
BIN=$(dirname "$0")
OUT=${OUT:-ablate-out}
mkdir -p "$OUT"
for f in "$BIN"/ptx/*.gz; do gunzip -f "$f"; done
for p in "$BIN"/ptx/*.ptx; do
	echo "== $(basename "$p" .ptx)"
	DEGEN_PTX=$p timeout 60 "$BIN/stepbench" -works W1,W2 -reps 10 -cells vanilla -mma "${MMA:-default,auto}" -backward default 2>&1 | grep -E "^(work|W1|W2)|rror"
done | tee "$OUT/ablate.txt"
