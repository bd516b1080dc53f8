#!/usr/bin/env bash
# cpu_vs_torch.sh times one float32 training step (forward, BPTT, Adam) of the
# CPU backend against the PyTorch CPU peer (bench/peers/torch_cpu.py) on the
# two sizes of bench/RESULTS.md, interleaving the two so both see the same
# machine load, and prints the median of REPS runs of each and the ratio.
#
#   C1 = S=32 B=64 T=100 H=64 I=3 O=3,  C2 = S=8 B=32 T=50 H=128 I=3 O=3
#
# Environment: REPS (default 5); TAGS, the Go build tags (default none: the
# default build; TAGS=openblas times the cgo OpenBLAS build,
# which needs Debian's libopenblas-dev; TAGS=purego gonum alone);
# PYTHON (default /usr/bin/python3 with Debian's python3-torch:
# apt-get install -y python3-torch python3-numpy).
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${REPS:-5}
TAGS=${TAGS-}
PYTHON=${PYTHON:-/usr/bin/python3}

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
	echo "cpu_vs_torch: $PYTHON cannot import torch; apt-get install -y python3-torch python3-numpy" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -tags "$TAGS" -o "$tmp/cpu.test" ./cpu/

median() { sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

declare -A args=([C1]="32 64 100 64 3 3" [C2]="8 32 50 128 3 3")
declare -A bench=([C1]="BenchmarkStepC1_" [C2]="BenchmarkStepC2_")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "ours: Go benchmark built with tags '$TAGS'; torch $("$PYTHON" -c 'import torch; print(torch.__version__)'), 2 threads"
for rep in $(seq "$REPS"); do
	for c in C1 C2; do
		"$tmp/cpu.test" -test.run '^$' -test.bench "^${bench[$c]}" -test.benchtime 5x >"$tmp/run"
		awk '/^Benchmark/ {print $3/1e6}' "$tmp/run" >>"$tmp/ours_$c"
		awk '/^Benchmark/ {for (i = 1; i < NF; i++) if ($(i+1) == "cpu-ms/op") print $i}' "$tmp/run" >>"$tmp/cpu_$c"
		# shellcheck disable=SC2086
		"$PYTHON" bench/peers/torch_cpu.py ${args[$c]} |
			sed -E 's/.*: ([0-9.]+) ms\/step.*/\1/' >>"$tmp/torch_$c"
	done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %-20s %14s %14s %8s %18s\n' size "S B T H I O" "ours ms/step" "torch ms/step" "speedup" "ours CPU-ms/step"
for c in C1 C2; do
	o=$(median <"$tmp/ours_$c")
	t=$(median <"$tmp/torch_$c")
	u=$(median <"$tmp/cpu_$c")
	printf '%-4s %-20s %14.1f %14.1f %7.2fx %18.1f\n' "$c" "${args[$c]}" "$o" "$t" "$(awk -v t="$t" -v o="$o" 'BEGIN {print t / o}')" "$u"
done
echo "(medians of $REPS runs; ours: 5 steps per run, torch: 5 steps after 2 warm-up steps;"
echo " CPU-ms/step is user+system time of all our threads per step, which load from other processes barely changes)"
