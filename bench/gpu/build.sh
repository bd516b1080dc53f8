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
# Stripped (-s -w): the device tool carries at most 64 MiB, and every binary
# embeds the 3 MB of PTX.
strip=(-ldflags "-s -w")
go build -tags "$TAGS" "${strip[@]}" -o "$BIN/degen-cuda" ./cmd/degen
go test -c -tags "$TAGS" "${strip[@]}" -o "$BIN/gpu.test" ./gpu
go test -c -tags "$TAGS" "${strip[@]}" -o "$BIN/cuda.test" ./cuda
go build -tags "$TAGS" "${strip[@]}" -o "$BIN/e2e" ./bench/gpu/e2e
go build -tags "$TAGS" "${strip[@]}" -o "$BIN/stepbench" ./bench/gpu/stepbench
du -sh "$BIN"
ls -l "$BIN"
