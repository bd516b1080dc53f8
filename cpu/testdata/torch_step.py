# torch_step.py IN.json OUT.json: the PyTorch (float64) side of TestAgainstPyTorch.
# For each network: masked MSE + L1 + nuclear norm, gradients (before clipping),
# then two steps of torch.optim.Adam with clip_grad_norm_, on the batches given.
import json, sys
import torch

torch.set_default_dtype(torch.float64)
d = json.load(open(sys.argv[1]))
S, B, T, I, H, O = (d[k] for k in ("S", "B", "T", "I", "H", "O"))
cell, tau = d["cell"], d["tau"]
P = H * H + H * I + H + O * H + O
out = {"grad": [], "loss": [], "params": []}
for s in range(S):
    flat = torch.tensor(d["params"][s * P:(s + 1) * P])
    shapes = [(H, H), (H, I), (H,), (O, H), (O,)]
    ps, off = [], 0
    for sh in shapes:
        n = 1
        for v in sh:
            n *= v
        ps.append(flat[off:off + n].reshape(sh).clone().requires_grad_())
        off += n
    W, U, b, V, c = ps
    opt = torch.optim.Adam(ps, lr=d["lr"][s])

    def objective(k):
        X = torch.tensor(d["x"][k][s]).reshape(T, B, I)
        Y = torch.tensor(d["y"][k][s]).reshape(T, B, O)
        M = torch.tensor(d["mask"][k][s]).reshape(T, B, O)
        h = torch.zeros(B, H)
        sse = 0
        for t in range(T):
            if cell == "vanilla":
                h = torch.tanh(h @ W.T + X[t] @ U.T + b)
                y = h @ V.T + c
            else:
                h = h + tau * (-h + torch.tanh(h) @ W.T / H + X[t] @ U.T + b)
                y = torch.tanh(h) @ V.T / (d["gamma"][s] * H) + c
            sse = sse + (M[t] * (y - Y[t]) ** 2).sum()
        mse = sse / M.sum()
        reg = d["l1"][s] * (W.abs().sum() + U.abs().sum() + V.abs().sum())
        reg = reg + d["nuclear"][s] * torch.linalg.matrix_norm(W, ord="nuc")
        return mse, mse + reg

    for k in range(2):
        opt.zero_grad()
        mse, total = objective(k)
        total.backward()
        if k == 0:
            out["grad"] += torch.cat([p.grad.reshape(-1) for p in ps]).tolist()
        out["loss"].append(mse.item())
        if d["clip"] > 0:
            torch.nn.utils.clip_grad_norm_(ps, d["clip"])
        opt.step()
    out["params"] += torch.cat([p.detach().reshape(-1) for p in ps]).tolist()
json.dump(out, open(sys.argv[2], "w"))
