#!/usr/bin/env bash
# build.sh builds, on a development machine with Go and the CUDA toolkit
# (.ci/install-cuda.sh), everything bench/gpu_check.sh runs on a GPU host
# that has no Go, into $BIN (default .devcarry, ignored by git). TAGS=cudaemu
# builds the same binaries on the CPU emulator instead, for a dry run of
# gpu_check.sh without a GPU (bench/gpu/dryrun.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.devcarry}
TAGS=${TAGS:-cuda}
mkdir -p "$BIN"
# Stripped (-s -w), and gzipped at the end: the device tool carries at most
# 64 MiB, and every binary embeds the PTX.
strip=(-ldflags "-s -w")
go build -tags "$TAGS" "${strip[@]}" -o "$BIN/degen-cuda" ./cmd/degen
go test -c -tags "$TAGS" "${strip[@]}" -o "$BIN/gpu.test" ./gpu
go test -c -tags "$TAGS" "${strip[@]}" -o "$BIN/cuda.test" ./cuda
go build -tags "$TAGS" "${strip[@]}" -o "$BIN/e2e" ./bench/gpu/e2e
go build -tags "$TAGS" "${strip[@]}" -o "$BIN/stepbench" ./bench/gpu/stepbench
go build -tags "$TAGS" "${strip[@]}" -o "$BIN/peak" ./bench/gpu/peak
# For bench/gpu/abab.sh: the PTX of REF (default: the last version measured
# on a GPU, v7) and of the variants it times (rnn.cu's timing macros). Not
# for the emulator, which runs only the kernels built into it.
rm -f "$BIN"/ptx-*.ptx.gz
if [ "$TAGS" = cuda ]; then
	# kernels/hopper.ptx (the wgmma kernels) must assemble for sm_90a.
	bash kernels/check-hopper.sh
	git show "${REF:-f8baa60}:kernels/kernels.ptx" | gzip -c >"$BIN/ptx-ref.ptx.gz"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	for v in unroll2:-DTILE_K_UNROLL=2 r4x4:-DR4_MIN_BLOCKS=4; do
		nvcc -ptx -arch=sm_90 -O3 -allow-unsupported-compiler "${v#*:}" -o "$tmp/${v%%:*}.ptx" kernels/kernels.cu &
	done
	wait
	for v in unroll2 r4x4; do gzip -c "$tmp/$v.ptx" >"$BIN/ptx-$v.ptx.gz"; done
fi
# The binaries travel gzipped (65 MB of them, 21 MB packed): the device tool
# carries at most 64 MiB. gpu_check.sh unpacks them on the GPU host.
for f in degen-cuda gpu.test cuda.test e2e stepbench peak; do
	gzip -f "$BIN/$f"
done
du -sh "$BIN"
ls -l "$BIN"
