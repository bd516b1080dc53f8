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
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for attempt in 1 2 3; do
	bash kernels/genptx.sh "$tmp"
	stale=""
	for f in kernels hopper; do
		if ! diff <(grep -v '^//' "kernels/$f.ptx") <(grep -v '^//' "$tmp/$f.ptx") >/dev/null; then stale="$stale $f.ptx"; fi
	done
	if [ -z "$stale" ]; then
		break
	fi
	if [ "$attempt" = 3 ]; then
		echo "cuda-check: kernels/{${stale# }} do not match kernels/*.cu; run \`make ptx\` and commit the result ($(nvcc --version | tail -n 1))" >&2
		for f in $stale; do diff <(grep -v '^//' "kernels/$f") <(grep -v '^//' "$tmp/$f") | head -n 20 >&2 || true; done
		exit 1
	fi
	echo "cuda-check: the regenerated PTX differs in$stale (attempt $attempt of 3); regenerating"
done
if ! command -v nvidia-smi >/dev/null 2>&1; then
	go build -tags cuda -o "$tmp/degen-cuda" ./cmd/degen
	set +e
	msg=$("$tmp/degen-cuda" version 2>&1)
	rc=$?
	set -e
	if [ "$rc" != 1 ] || ! grep -q "^degen: no usable NVIDIA GPU or driver" <<<"$msg"; then
		echo "cuda-check: degen-cuda without a GPU exited $rc with: $msg" >&2
		exit 1
	fi
	echo "cuda-check: without a GPU degen-cuda says: $msg"
fi
echo "cuda-check: CUDA build vets and the committed PTX matches the sources"
