# Second opinion on "does this task train?": one PyTorch nn.RNN (tanh) trained on
# degen's task formulations, written here from their doc comments (tasks/*.go) with
# numpy draws instead of degen's counter-based stream, so that it shares no code
# with degen. Prints the running-mean MSE every 250 steps and the step at which it
# first went below the task's threshold.
#
#   /usr/bin/python3 bench/peers/tasks_torch.py TASK [--lr 1e-3] [--clip 1] [--steps 5000]
#       [--hidden 32] [--batch 32] [--seed 1] [--old]
#
# --old trains the formulation of degen <= 0.8 (sine dt 5 ms and T 200; delayed
# without a gap; pathint with heading and speed apart) to show what changed.
# Needs Debian's python3-torch and python3-numpy.
import argparse, math, time
import numpy as np
import torch

p = argparse.ArgumentParser()
p.add_argument("task", choices=["flipflop", "sine", "delayed", "pathint"])
p.add_argument("--lr", type=float, default=1e-3)
p.add_argument("--clip", type=float, default=1.0, help="gradient-norm clip, 0 for none")
p.add_argument("--steps", type=int, default=5000)
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--old", action="store_true")
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(a.seed)
rng = np.random.default_rng(a.seed)
B = a.batch


def flipflop(bits=3, p=0.2, T=100):
    pulse = rng.random((B, T, bits)) < p
    pulse[:, 0] = True
    sign = np.where(rng.random((B, T, bits)) < 0.5, 1.0, -1.0)
    x = np.where(pulse, sign, 0.0)
    y = np.zeros_like(x)
    last = x[:, 0]
    for t in range(T):
        last = np.where(pulse[:, t], x[:, t], last)
        y[:, t] = last
    return x, y, np.ones_like(y), 1e-3


def sine(freqs=10, fmin=1.0, fmax=30.0):
    dt, T = (0.005, 200) if a.old else (0.002, 100)
    f = fmin + rng.integers(0, freqs, B) * (fmax - fmin) / (freqs - 1)
    x = np.repeat((f / fmax)[:, None, None], T, axis=1)
    y = np.sin(2 * math.pi * f[:, None] * dt * np.arange(T)[None, :])[:, :, None]
    return x, y, np.ones_like(y), 5e-2


def delayed(dmin=5, dmax=20, pulse=5, lead=5, response=10, fmin=2.0, fmax=10.0):
    gap = 0.0 if a.old else 1.0
    T = lead + 2 * pulse + dmax + response
    x, y, m = np.zeros((B, T, 1)), np.zeros((B, T, 1)), np.zeros((B, T, 1))
    for b in range(B):
        f1 = rng.uniform(fmin, fmax)
        while True:  # rejection: f2 uniform outside (f1 - gap, f1 + gap)
            f2 = rng.uniform(fmin, fmax)
            if abs(f2 - f1) >= gap:
                break
        t2 = lead + pulse + rng.integers(dmin, dmax + 1)
        x[b, lead:lead + pulse, 0] = f1 / fmax
        x[b, t2:t2 + pulse, 0] = f2 / fmax
        y[b, t2 + pulse:, 0] = np.sign(f2 - f1)
        m[b, t2 + pulse:, 0] = 1
    return x, y, m, 1e-2


def pathint(A=5.0, vmax=0.5, T=100):
    pos = rng.uniform(-A, A, (B, 2))
    motion = 3 if a.old else 2
    x, y = np.zeros((B, T, motion + 2)), np.zeros((B, T, 2))
    x[:, 0, motion:] = pos / A
    y[:, 0] = pos / A
    for t in range(1, T):
        th, v = rng.uniform(0, 2 * math.pi, B), rng.uniform(0, vmax, B)
        u = np.stack([np.cos(th), np.sin(th)], 1)
        step = v[:, None] * u
        out = np.abs(pos + step) > A  # reflect at the wall
        step[out], u[out] = -step[out], -u[out]
        pos = pos + step
        if a.old:
            x[:, t, 0:2], x[:, t, 2] = u, v / vmax
        else:
            x[:, t, 0:2] = step / vmax
        y[:, t] = pos / A
    return x, y, np.ones_like(y), 5e-2


make = {"flipflop": flipflop, "sine": sine, "delayed": delayed, "pathint": pathint}[a.task]
x0, y0, _, threshold = make()
rnn = torch.nn.RNN(x0.shape[2], a.hidden, batch_first=True)
readout = torch.nn.Linear(a.hidden, y0.shape[2])
params = list(rnn.parameters()) + list(readout.parameters())
opt = torch.optim.Adam(params, lr=a.lr)
t0, mean, reached = time.time(), None, None
for step in range(1, a.steps + 1):
    x, y, m, _ = (torch.tensor(v, dtype=torch.float32) if isinstance(v, np.ndarray) else v for v in make())
    out, _ = rnn(x)
    loss = (((readout(out) - y) ** 2) * m).sum() / m.sum()
    opt.zero_grad()
    loss.backward()
    if a.clip > 0:
        torch.nn.utils.clip_grad_norm_(params, a.clip)
    opt.step()
    mean = loss.item() if mean is None else 0.98 * mean + 0.02 * loss.item()
    if reached is None and mean < threshold:
        reached = step
    if step % 250 == 0:
        print(f"{step} {mean:.4g} {time.time() - t0:.0f}s", flush=True)
print(f"{a.task}{' (old)' if a.old else ''} lr {a.lr} clip {a.clip}: running-mean MSE {mean:.4g}, "
      f"threshold {threshold} first reached at step {reached}")
