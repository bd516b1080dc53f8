#!/usr/bin/env bash
# build.sh writes, into $BIN/ptx (default .devcarry/ptx), gzipped PTX of the
# kernels with one part removed each (patch.py) plus the unchanged kernels
# (base), and stepbench into $BIN: everything run.sh needs on a GPU host.
# Needs Go and the CUDA toolkit; about 2 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../../.."
BIN=${BIN:-.devcarry}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 bench/gpu/ablate/patch.py "$tmp/src"
mkdir -p "$BIN/ptx"
for v in base:"" noreadout:-DA_NOREADOUT nostates:-DA_NOSTATES notanh:-DA_NOTANH nogemm:-DA_NOGEMM onex:-DA_1XTF32; do
	name=${v%%:*} flag=${v#*:}
	nvcc -ptx -arch=sm_90 -O3 -allow-unsupported-compiler $flag -o "$tmp/$name.ptx" "$tmp/src/kernels.cu" 2>/dev/null
	gzip -c "$tmp/$name.ptx" >"$BIN/ptx/$name.ptx.gz"
done
go build -tags cuda -ldflags "-s -w" -o "$BIN/stepbench" ./bench/gpu/stepbench
cp bench/gpu/ablate/run.sh "$BIN/ablate.sh"
ls -l "$BIN/ptx"
