"""scipy's FAQ on pairs of trained networks: the published baseline of degen's
permutation distance, min over permutations P of ||W1 - P^T W2 P||_F.

Each pair is solved by scipy.optimize.quadratic_assignment (method "faq",
maximize tr(W1^T P^T W2 P)) from the barycentre and from STARTS random doubly
stochastic starts, each twice: with scipy's defaults (maxiter 30, tol 0.03)
and iterated to convergence (maxiter 1000, tol 1e-6). The best value of all
runs is "the best of FAQ"; the barycentre run with the defaults is what a user
who calls quadratic_assignment once gets.

    python3 bench/peers/perm_faq.py RUN_DIR/weights.npz [--pairs 0-1,0-2] [--starts 30] [--json OUT]

Without --pairs it solves every pair i < j of the networks in the file.
Needs numpy and scipy (Debian: python3-numpy, python3-scipy).
"""
import argparse
import json
import sys
import time

import numpy as np
from scipy.optimize import quadratic_assignment

SETTINGS = {"scipy": {"maxiter": 30, "tol": 0.03}, "converged": {"maxiter": 1000, "tol": 1e-6}}


def distance(a, b, perm):
    """||A - B[perm][:, perm]||_F, degen's convention (unit i of A matches perm[i] of B)."""
    return float(np.linalg.norm(a - b[np.ix_(perm, perm)]))


def faq_pair(a, b, starts=30, seed=0):
    """Solves one pair; returns a dict of the values found."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    runs = {name: [] for name in SETTINGS}
    for name, opts in SETTINGS.items():
        for s in range(starts + 1):
            o = dict(opts, maximize=True)
            if s == 0:
                o["P0"] = "barycenter"
            else:
                o["P0"] = "randomized"
                o["rng"] = int(rng.integers(2**31))
            res = quadratic_assignment(a, b, method="faq", options=o)
            runs[name].append(distance(a, b, res.col_ind))
    best = min(min(v) for v in runs.values())
    return {
        "barycentre": runs["scipy"][0],
        "best_scipy": min(runs["scipy"]),
        "best_converged": min(runs["converged"]),
        "best": best,
        "runs": runs,
    }


def parse_pairs(text, n):
    if not text:
        return [(i, j) for i in range(n) for j in range(i + 1, n)]
    out = []
    for p in text.split(","):
        i, j = p.split("-")
        out.append((int(i), int(j)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", help="an NPZ with W_hh of shape (S, H, H), e.g. a run's weights.npz")
    ap.add_argument("--array", default="W_hh")
    ap.add_argument("--pairs", default="", help="comma-separated i-j pairs (default: all i < j)")
    ap.add_argument("--starts", type=int, default=30, help="random starts besides the barycentre")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default="", help="write the results here")
    args = ap.parse_args()
    w = np.load(args.weights)[args.array]
    pairs = parse_pairs(args.pairs, w.shape[0])
    results = []
    for i, j in pairs:
        t0 = time.perf_counter()
        r = faq_pair(w[i], w[j], args.starts, args.seed)
        r.update(i=i, j=j, seconds=time.perf_counter() - t0)
        results.append(r)
        print(f"pair {i}-{j}: barycentre {r['barycentre']:.4f}, best of {args.starts + 1} (scipy defaults) "
              f"{r['best_scipy']:.4f}, converged {r['best_converged']:.4f}, {r['seconds']:.1f} s", file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"weights": args.weights, "starts": args.starts, "pairs": results}, f)


if __name__ == "__main__":
    main()
