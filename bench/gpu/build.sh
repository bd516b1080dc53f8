#!/usr/bin/env bash
# build.sh builds, on a development machine with Go and the CUDA toolkit
# (.ci/install-cuda.sh), everything bench/gpu_check.sh runs on a GPU host
# that has no Go, into $BIN (default .devcarry, ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.devcarry}
mkdir -p "$BIN"
# Stripped (-s -w): the device tool carries at most 64 MiB, and every binary
# embeds the 3 MB of PTX.
strip=(-ldflags "-s -w")
go build -tags cuda "${strip[@]}" -o "$BIN/degen-cuda" ./cmd/degen
go test -c -tags cuda "${strip[@]}" -o "$BIN/gpu.test" ./gpu
go test -c -tags cuda "${strip[@]}" -o "$BIN/cuda.test" ./cuda
go build -tags cuda "${strip[@]}" -o "$BIN/e2e" ./bench/gpu/e2e
go build -tags cuda "${strip[@]}" -o "$BIN/stepbench" ./bench/gpu/stepbench
du -sh "$BIN"
ls -l "$BIN"
