"""abab_summary.py reads the rows bench/gpu/abab.sh printed (a gpu_check.log,
or abab.sh's own output) and prints, per workload and cell, each
configuration's kernel time in every round, the median, the change against
`ref` (the last version measured) and the median forward, backward and
weight-gradient times: what deciding the defaults needs.

Usage: python3 bench/gpu/abab_summary.py LOG"""
import re
import statistics
import sys

LABELS = ("ref", "new", "groups2", "unroll2", "r4x4", "wgmma-grad", "wgmma")


def main(path):
    rows = {}  # (work, cell) -> label -> list of (fwd, bwd, dw, kern)
    for line in open(path):
        t = line.split()
        if len(t) < 11 or t[0] not in LABELS or t[2] not in ("vanilla", "rate"):
            continue
        try:
            fwd, bwd, dw, kern = float(t[6]), float(t[7]), float(t[8]), float(t[10])
        except ValueError:
            continue
        rows.setdefault((t[1], t[2]), {}).setdefault(t[0], []).append((fwd, bwd, dw, kern))
    if not rows:
        print("abab_summary: no abab rows in", path)
        return
    print("%-4s %-7s %-10s %-17s %7s %8s %6s %6s %6s" % ("work", "cell", "config", "kernels ms/round", "median", "vs ref", "fwd", "bwd", "dW"))
    for (work, cell), by in rows.items():
        ref = statistics.median(k for *_, k in by["ref"]) if "ref" in by else None
        for label in LABELS:
            if label not in by:
                continue
            runs = by[label]
            kern = statistics.median(r[3] for r in runs)
            vs = "" if ref is None else "%+.1f%%" % (100 * (kern / ref - 1))
            med = [statistics.median(r[i] for r in runs) for i in range(3)]
            print("%-4s %-7s %-10s %-17s %7.2f %8s %6.2f %6.2f %6.2f" % (
                work, cell, label, "/".join("%.2f" % r[3] for r in runs), kern, vs, *med))


if __name__ == "__main__":
    main(sys.argv[1])
