#!/usr/bin/env bash
# cuda-check.sh proves, on a machine without a GPU, that the CUDA build
# compiles (go vet -tags cuda ./...) and that the committed PTX matches the
# CUDA sources (regenerated into a temporary file and diffed). It installs
# the CUDA toolkit first when nvcc or cuda.h is missing (.ci/install-cuda.sh).
# The PTX header names the nvcc release; comment lines are left out of the
# diff so that only code differences fail it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/install-cuda.sh
echo "cuda-check: go vet -tags cuda ./..."
go vet -tags cuda ./...
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
bash kernels/genptx.sh "$tmp"
for f in kernels/*.ptx; do
	if ! diff <(grep -v '^//' "$f") <(grep -v '^//' "$tmp") >/dev/null; then
		echo "cuda-check: $f does not match kernels/rnn.cu; run \`make ptx\` and commit the result ($(nvcc --version | tail -n 1))" >&2
		diff <(grep -v '^//' "$f") <(grep -v '^//' "$tmp") | head -n 20 >&2
		exit 1
	fi
done
echo "cuda-check: CUDA build vets and the committed PTX matches the sources"
