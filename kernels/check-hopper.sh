#!/usr/bin/env bash
# check-hopper.sh assembles kernels/hopper.ptx (the wgmma kernels: PTX ISA
# 8.0, target sm_90a; see genptx.sh) with ptxas from CUDA 12.4, which the
# CUDA 11.8 toolchain that `make ptx` uses cannot do, and checks that every
# kernel kept its warpgroup MMAs. bench/gpu/build.sh runs it before every
# GPU session; CI does not (an 87 MB download, while no training kernel uses
# wgmma yet).
#
# The toolkit comes from Debian trixie's non-free section, whose binaries run
# on bookworm (they need glibc >= 2.34): one .deb, fetched from the mirror
# the machine's apt already uses (the first URIs: line of
# /etc/apt/sources.list.d/debian.sources; no host is named here), checked
# against its SHA256 (taken from trixie's Packages index, whose signature
# verified against bookworm's debian-archive-keyring on 2026-11-27), and
# unpacked into a cache directory without installing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
deb=nvidia-cuda-toolkit_12.4.131~12.4.1-2_amd64.deb
sha=cd5fe85aee38d108b315f408a688641478f2402622a10c677478eb7a6c4e5319
cache=${DEGEN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/degen}/cuda-12.4
ptxas=$cache/root/usr/bin/ptxas
if [ ! -x "$ptxas" ]; then
	src=/etc/apt/sources.list.d/debian.sources
	uri=$(awk 'NF==0{exit} /^URIs:/{print $2; exit}' "$src" 2>/dev/null || true)
	if [ -z "$uri" ]; then
		echo "check-hopper: no URIs: line in the first entry of $src: cannot find the Debian mirror" >&2
		exit 1
	fi
	mkdir -p "$cache"
	echo "check-hopper: fetching $deb (87 MB, once)"
	curl -fsS --retry 3 -o "$cache/$deb" "${uri%/}/pool/non-free/n/nvidia-cuda-toolkit/$deb"
	if ! echo "$sha  $cache/$deb" | sha256sum -c --quiet -; then
		rm -f "$cache/$deb"
		echo "check-hopper: $deb does not match its SHA256" >&2
		exit 1
	fi
	dpkg-deb -x "$cache/$deb" "$cache/root"
	rm -f "$cache/$deb"
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
log=$("$ptxas" -arch=sm_90a -v kernels/hopper.ptx -o "$tmp" 2>&1)
sed 's/^/check-hopper: /' <<<"$log"
# C7513: ptxas waits after every wgmma of a kernel (an instruction between
# them defines one of their inputs): correct, but it forfeits the pipeline.
if grep -q 'C7513' <<<"$log"; then
	echo "check-hopper: ptxas serializes the wgmmas of a kernel (C7513 above)" >&2
	exit 1
fi
# kernel:shape:count: each kernel keeps at least count wgmmas of its shape.
for k in probe_wgmma:64x128:16 wgmma_selftest:64x128:1 wgmma_chain_selftest:64x64:16 rnn_grad_wgmma_t128:64x128:12 rnn_grad_wgmma_t64:64x64:12 rnn_forward_wgmma_h128:64x128:51 rnn_forward_wgmma_h128_rate:64x128:51 rnn_forward_wgmma_h64:64x64:27 rnn_forward_wgmma_h64_rate:64x64:27 rnn_backward_wgmma_h128:64x128:48 rnn_backward_wgmma_h128_rate:64x128:48 rnn_backward_wgmma_h64:64x64:24 rnn_backward_wgmma_h64_rate:64x64:24; do
	IFS=: read -r name shape want <<<"$k"
	n=$("$cache/root/usr/bin/cuobjdump" -sass -fun "$name" "$tmp" | grep -c "HGMMA.${shape}x8.F32.TF32" || true)
	if [ "$n" -lt "$want" ]; then
		echo "check-hopper: $name has $n HGMMA.${shape}x8.F32.TF32 instructions, want at least $want" >&2
		exit 1
	fi
done
echo "check-hopper: kernels/hopper.ptx assembles for sm_90a ($("$ptxas" --version | tail -n 1))"
