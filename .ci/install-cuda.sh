#!/usr/bin/env bash
# install-cuda.sh installs the CUDA toolkit (nvcc, cuda.h, libcuda.so stub) from Debian's
# non-free section on a fresh Debian bookworm machine, so that `make ptx` and `make cuda`
# work. It reuses the mirror the machine already uses: the URIs: and Signed-By: lines of
# the first entry of /etc/apt/sources.list.d/debian.sources are copied into a second
# sources file with Components: contrib non-free. No mirror host is named here.
# It exits at once when nvcc and cuda.h are already present.
set -euo pipefail

have_cuda() {
	command -v nvcc >/dev/null 2>&1 && { [ -f /usr/include/cuda.h ] || [ -f /usr/local/cuda/include/cuda.h ]; }
}

if have_cuda; then
	echo "install-cuda: nvcc and cuda.h already present; nothing to do"
	exit 0
fi

src=/etc/apt/sources.list.d/debian.sources
dst=/etc/apt/sources.list.d/degen-nonfree.sources
if [ ! -f "$src" ]; then
	echo "install-cuda: $src not found; this script expects a Debian bookworm machine" >&2
	exit 1
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi

# The first stanza of the deb822 file ends at the first blank line.
uris=$(awk 'NF==0{exit} /^URIs:/{print; exit}' "$src")
signed=$(awk 'NF==0{exit} /^Signed-By:/{print; exit}' "$src")
if [ -z "$uris" ]; then
	echo "install-cuda: no URIs: line in the first entry of $src" >&2
	exit 1
fi

if [ ! -f "$dst" ]; then
	{
		echo "Types: deb"
		echo "$uris"
		echo "Suites: bookworm"
		echo "Components: contrib non-free"
		if [ -n "$signed" ]; then echo "$signed"; fi
	} | $SUDO tee "$dst" >/dev/null
	echo "install-cuda: wrote $dst"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends nvidia-cuda-toolkit nvidia-cuda-dev

if ! have_cuda; then
	echo "install-cuda: installation finished but nvcc or cuda.h is still missing" >&2
	exit 1
fi
echo "install-cuda: $(nvcc --version | tail -n 1)"
