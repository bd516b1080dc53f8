"""Builds analysis/testdata/trained_cases.npz: weights and DSA operators of
networks trained by degen, with scipy's values for the permutation distance.

Made from four runs of the flip-flop task, 6 networks each:

    for h in 32 64; do for c in vanilla rate; do
        degen train --task flipflop --cell $c --hidden $h --seeds 6 --out runs/$c$h
        degen eval runs/$c$h
    done; done
    python3 analysis/testdata/make_trained_cases.py runs

For each run <set> (vanilla32, rate32, vanilla64, rate64) it stores
  <set>_W_hh        (6, H, H)  the trained recurrent weights (float32, as trained)
  <set>_pairs       (P, 2)     the pairs compared
  <set>_faq_best    (P,)       scipy's FAQ, best of 62 runs (bench/peers/perm_faq.py:
                               barycentre + 30 random starts, with scipy's defaults
                               and iterated to convergence)
  <set>_faq_bary    (P,)       scipy's FAQ from the barycentre, defaults (one call)
  <set>_dsa_ops     (5, 30, 30) HAVOK operators of networks 0-4 (5 delays, rank 30),
                               computed here with numpy from the run's states.npz

Needs numpy and scipy (Debian: python3-numpy, python3-scipy).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench", "peers"))
from perm_faq import faq_pair  # noqa: E402

SETS = ["vanilla32", "rate32", "vanilla64", "rate64"]
PAIRS = [(0, 1), (0, 2), (1, 3), (2, 4), (3, 5)]
DELAYS, RANK = 5, 30


def havok(traj, delays, rank):
    """The HAVOK operator of trajectories (K, T, n), as degen's FitOperator
    defines it (after mitchellostrow/DSA): delay embedding with rows
    [x_{t+D-1}, ..., x_t], thin SVD H = V S U^T, and the least-squares
    one-step map A of the first `rank` columns of V within trials."""
    K, T, n = traj.shape
    tp = T - delays + 1
    rows = []
    for k in range(K):
        for t in range(tp):
            rows.append(np.concatenate([traj[k, t + delays - 1 - d] for d in range(delays)]))
    H = np.asarray(rows, dtype=np.float64)
    V, _, _ = np.linalg.svd(H, full_matrices=False)
    V = V[:, :rank].reshape(K, tp, rank)
    vm = V[:, :-1].reshape(-1, rank)
    vp = V[:, 1:].reshape(-1, rank)
    X, *_ = np.linalg.lstsq(vm, vp, rcond=None)
    return X.T


def main():
    runs = sys.argv[1]
    out = {}
    for name in SETS:
        w = np.load(os.path.join(runs, name, "weights.npz"))["W_hh"]
        best, bary = [], []
        for i, j in PAIRS:
            r = faq_pair(w[i], w[j], starts=30, seed=0)
            best.append(r["best"])
            bary.append(r["barycentre"])
            print(f"{name} {i}-{j}: FAQ best {r['best']:.4f}, barycentre {r['barycentre']:.4f}", file=sys.stderr)
        states = np.load(os.path.join(runs, name, "states.npz"))["states"].astype(np.float64)
        out[f"{name}_W_hh"] = w.astype(np.float32)
        out[f"{name}_pairs"] = np.asarray(PAIRS, dtype=np.int64)
        out[f"{name}_faq_best"] = np.asarray(best)
        out[f"{name}_faq_bary"] = np.asarray(bary)
        out[f"{name}_dsa_ops"] = np.stack([havok(states[s], DELAYS, RANK) for s in range(5)])
    np.savez_compressed(os.path.join(os.path.dirname(__file__), "trained_cases.npz"), **out)


if __name__ == "__main__":
    main()
