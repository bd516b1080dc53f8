#!/usr/bin/env bash
# build.sh builds, on a development machine with Go and the CUDA toolkit
# (.ci/install-cuda.sh), everything bench/gpu_check.sh runs on a GPU host
# that has no Go, into $BIN (default .devcarry, ignored by git).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.devcarry}
mkdir -p "$BIN"
go build -tags cuda -o "$BIN/degen-cuda" ./cmd/degen
go test -c -tags cuda -o "$BIN/gpu.test" ./gpu
go test -c -tags cuda -o "$BIN/cuda.test" ./cuda
go build -tags cuda -o "$BIN/e2e" ./bench/gpu/e2e
go build -tags cuda -o "$BIN/stepbench" ./bench/gpu/stepbench
ls -l "$BIN"
