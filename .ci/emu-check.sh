#!/usr/bin/env bash
# emu-check.sh runs the GPU backend's tests without a GPU: the cudaemu build
# of package cuda compiles the kernels' CUDA sources with the host C++
# compiler and runs them on the CPU (cuda/emu.cc), so the gpu package's
# launch code, the kernels and the CLI's --backend gpu path are checked
# against the CPU reference by the same conformance suite a GPU host runs.
# It installs g++ first when it is missing (cgo needs it for the .cc files).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v g++ >/dev/null 2>&1; then
	SUDO=""
	if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q && $SUDO apt-get install -y -q --no-install-recommends g++
fi
echo "emu-check: go vet -tags cudaemu ./..."
go vet -tags cudaemu ./...
echo "emu-check: go test -tags cudaemu ./cuda ./gpu ./cmd/degen"
go test -count=1 -tags cudaemu ./cuda ./gpu ./cmd/degen
# The GPU benchmark binary on a tiny workload, so that a GPU session does not
# spend its minutes finding a broken bench.
echo "emu-check: stepbench -works tiny"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -tags cudaemu -o "$tmp/stepbench" ./bench/gpu/stepbench
"$tmp/stepbench" -works tiny -reps 1 -cells both
