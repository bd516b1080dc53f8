"""The permutation distance on trained networks: degen against scipy's FAQ.

For each set (a run of flip-flop networks of one width and cell, trained here
by `degen train` when its directory is missing) and each pair, prints:
scipy's FAQ from the barycentre (one call with scipy's defaults) and its best
of 62 runs (bench/peers/perm_faq.py), degen's value at --seed 1, its range
over SEEDS seeds and the spread (max - min) / min, the same for an older
degen binary when --old is given, and the best value any method found.

    go build -o /tmp/degen ./cmd/degen
    python3 bench/permdist_trained.py --degen /tmp/degen [--old /tmp/degen-old] \\
        --runs /tmp/pd --sets vanilla32,rate32,vanilla64,rate64,vanilla128,rate128 \\
        --pairs 0-1,0-2,0-3 --seeds 10

scipy's results are cached in RUNS/SET/faq.json (at H=128 a pair takes minutes).
Needs numpy and scipy (Debian: python3-numpy, python3-scipy).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "peers"))
from perm_faq import faq_pair  # noqa: E402


def train(degen, runs, name):
    """Trains the set's run: name is <cell><H>, e.g. rate64."""
    cell = name.rstrip("0123456789")
    hidden = name[len(cell):]
    out = os.path.join(runs, name)
    if not os.path.exists(os.path.join(out, "weights.npz")):
        subprocess.run([degen, "train", "--task", "flipflop", "--cell", cell, "--hidden", hidden,
                        "--seeds", "6", "--out", out, "--force", "--quiet"], check=True)
    return out


def faq(run, pairs):
    """scipy's values for the pairs, cached in run/faq.json."""
    path = os.path.join(run, "faq.json")
    cache = json.load(open(path)) if os.path.exists(path) else {}
    w = np.load(os.path.join(run, "weights.npz"))["W_hh"]
    for i, j in pairs:
        key = f"{i}-{j}"
        if key not in cache:
            t0 = time.perf_counter()
            r = faq_pair(w[i], w[j], starts=30, seed=0)
            cache[key] = {"best": r["best"], "barycentre": r["barycentre"], "seconds": time.perf_counter() - t0}
            json.dump(cache, open(path, "w"))
    return cache


def degen_matrix(degen, run, seed, tmp):
    """Every pair's distance with one seed, and the CPU seconds it took."""
    out = os.path.join(tmp, f"perm-{seed}.npz")
    r0 = os.times()
    subprocess.run([degen, "analyze", "permdist", "--input", os.path.join(run, "weights.npz"),
                    "--a", "W_hh", "--output", out, "--seed", str(seed), "--quiet"],
                   check=True, stdout=subprocess.DEVNULL)
    r1 = os.times()
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return np.load(out)["distance"], cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--degen", required=True)
    ap.add_argument("--old", default="", help="an older degen binary to compare")
    ap.add_argument("--runs", required=True)
    ap.add_argument("--sets", default="vanilla32,rate32,vanilla64,rate64")
    ap.add_argument("--pairs", default="0-1,0-2,0-3")
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    pairs = [tuple(int(x) for x in p.split("-")) for p in args.pairs.split(",")]
    bins = [("degen", args.degen)] + ([("old", args.old)] if args.old else [])
    print("| set | pair | FAQ barycentre | FAQ best of 62 | " +
          " | ".join(f"{n} seed 1 | {n} min-max over {args.seeds} seeds (spread) | {n} CPU s/pair" for n, _ in bins) +
          " | best known | degen seed 1 vs FAQ best |")
    print("|" + "---|" * (5 + 3 * len(bins) + 1))
    for name in args.sets.split(","):
        run = train(args.degen, args.runs, name)
        ref = faq(run, pairs)
        vals = {}
        cpu = {}
        with tempfile.TemporaryDirectory() as tmp:
            for n, b in bins:
                mats, secs = [], 0.0
                for seed in range(1, args.seeds + 1):
                    m, s = degen_matrix(b, run, seed, tmp)
                    mats.append(m)
                    secs += s
                vals[n] = np.stack(mats)
                npairs = mats[0].shape[0] * (mats[0].shape[0] - 1) // 2
                cpu[n] = secs / (args.seeds * npairs)
        for i, j in pairs:
            r = ref[f"{i}-{j}"]
            row = [name, f"{i}-{j}", f"{r['barycentre']:.4f}", f"{r['best']:.4f}"]
            best = r["best"]
            for n, _ in bins:
                v = vals[n][:, i, j]
                best = min(best, v.min())
                row += [f"{v[0]:.4f}", f"{v.min():.4f}-{v.max():.4f} ({100 * (v.max() - v.min()) / v.min():.2f}%)",
                        f"{cpu[n]:.3f}"]
            row += [f"{best:.4f}", f"{100 * (vals['degen'][0, i, j] / r['best'] - 1):+.2f}%"]
            print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
