"""The same training loops as footprint's candle workloads, in PyTorch.

Same shapes, same initialisation scheme, AdamW with the same defaults (lr 1e-3, betas 0.9 /
0.999, eps 1e-8, weight decay 0.01), same synthetic data distributions, float32 on the CPU.
The transformer's attention is written out (matmul, mask, softmax, matmul) exactly as the
candle model does it, so both do the same FLOPs.

    python torch_train.py --workload mlp --steps 200 --warmup 10 --threads 2

Prints one JSON object like `cargo run --example train_plain` does.
"""

import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


def linear(i, o, g):
    w = torch.randn(o, i, generator=g) * math.sqrt(1.0 / i)
    return torch.nn.Parameter(w), torch.nn.Parameter(torch.zeros(o))


class Mlp(torch.nn.Module):
    def __init__(self, inp, hidden, depth, classes, g):
        super().__init__()
        dims = [inp] + [hidden] * depth + [classes]
        self.ws = torch.nn.ParameterList()
        self.bs = torch.nn.ParameterList()
        for a, b in zip(dims, dims[1:]):
            w, bias = linear(a, b, g)
            self.ws.append(w)
            self.bs.append(bias)

    def forward(self, x):
        n = len(self.ws)
        for i, (w, b) in enumerate(zip(self.ws, self.bs)):
            x = x @ w.t() + b
            if i < n - 1:
                x = torch.relu(x)
        return x

    def flops_per_sample(self):
        return 6.0 * sum(w.numel() for w in self.ws)


class Block(torch.nn.Module):
    def __init__(self, d, g):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d, eps=1e-5)
        self.qkv_w, self.qkv_b = linear(d, 3 * d, g)
        self.proj_w, self.proj_b = linear(d, d, g)
        self.ln2 = torch.nn.LayerNorm(d, eps=1e-5)
        self.fc1_w, self.fc1_b = linear(d, 4 * d, g)
        self.fc2_w, self.fc2_b = linear(4 * d, d, g)


class Transformer(torch.nn.Module):
    def __init__(self, vocab, d, layers, heads, seq, g):
        super().__init__()
        self.heads, self.d, self.seq, self.vocab, self.layers = heads, d, seq, vocab, layers
        self.tok = torch.nn.Parameter(torch.randn(vocab, d, generator=g) * 0.02)
        self.pos = torch.nn.Parameter(torch.randn(seq, d, generator=g) * 0.02)
        self.blocks = torch.nn.ModuleList(Block(d, g) for _ in range(layers))
        self.ln_f = torch.nn.LayerNorm(d, eps=1e-5)
        self.head_w, self.head_b = linear(d, vocab, g)
        mask = torch.triu(torch.full((seq, seq), -1e9), diagonal=1)
        self.register_buffer("mask", mask)

    def forward(self, ids):
        b, t = ids.shape
        h, d = self.heads, self.d
        x = self.tok[ids] + self.pos
        for blk in self.blocks:
            y = blk.ln1(x) @ blk.qkv_w.t() + blk.qkv_b
            q, k, v = y.view(b, t, 3, h, d // h).unbind(2)
            q, k, v = (z.transpose(1, 2) for z in (q, k, v))
            att = (q @ k.transpose(-1, -2)) / math.sqrt(d // h) + self.mask
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
            x = x + (y @ blk.proj_w.t() + blk.proj_b)
            z = F.gelu(blk.ln2(x) @ blk.fc1_w.t() + blk.fc1_b, approximate="tanh")
            x = x + (z @ blk.fc2_w.t() + blk.fc2_b)
        return self.ln_f(x) @ self.head_w.t() + self.head_b

    def flops_per_sample(self):
        d, t, v, l = self.d, self.seq, self.vocab, self.layers
        return 3.0 * (l * (24.0 * d * d + 4.0 * t * d) + 2.0 * d * v) * t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--workload", default="mlp", choices=["mlp", "transformer"])
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--width", type=int)
    p.add_argument("--depth", type=int)
    p.add_argument("--seq-len", type=int)
    p.add_argument("--heads", type=int)
    p.add_argument("--threads", type=int)
    p.add_argument("--device", default="cpu")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    g = torch.Generator().manual_seed(42)
    if a.workload == "mlp":
        bs = a.batch_size or 64
        cfg = dict(input=256, hidden=a.width or 512, depth=a.depth or 3, classes=10)
        model = Mlp(cfg["input"], cfg["hidden"], cfg["depth"], cfg["classes"], g).to(dev)
        rows = max(bs * 64, 4096)
        centers = torch.randn(cfg["classes"], cfg["input"], generator=g) * 0.5
        ys = torch.randint(0, cfg["classes"], (rows,), generator=g)
        xs = (centers[ys] + torch.randn(rows, cfg["input"], generator=g)).to(dev)
        ys = ys.to(dev)

        def batch(i):
            n = rows // bs
            s = (i % n) * bs
            return xs[s:s + bs], ys[s:s + bs]
    else:
        bs = a.batch_size or 16
        cfg = dict(vocab=256, d_model=a.width or 128, layers=a.depth or 2, heads=a.heads or 4, seq_len=a.seq_len or 64)
        model = Transformer(cfg["vocab"], cfg["d_model"], cfg["layers"], cfg["heads"], cfg["seq_len"], g).to(dev)
        t = cfg["seq_len"]
        succ = torch.randint(0, cfg["vocab"], (cfg["vocab"],), generator=g)
        n = max(bs * (t + 1) * 32, 1 << 16)
        corpus = torch.empty(n, dtype=torch.long)
        cur = 0
        follow = torch.rand(n, generator=g) < 0.8
        rand = torch.randint(0, cfg["vocab"], (n,), generator=g)
        for i in range(n):
            cur = int(succ[cur]) if follow[i] else int(rand[i])
            corpus[i] = cur
        corpus = corpus.to(dev)
        span = n - t - 1

        def batch(i):
            offs = [((i * bs + j) * 7919 * t) % span for j in range(bs)]
            ids = torch.stack([corpus[o:o + t] for o in offs])
            tg = torch.stack([corpus[o + 1:o + t + 1] for o in offs])
            return ids, tg
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)

    def step(i):
        x, y = batch(i)
        out = model(x)
        loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    for i in range(a.warmup):
        step(i)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    first = last = None
    for i in range(a.steps):
        last = step(a.warmup + i)
        first = last if first is None else first
    if dev.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - t0
    samples = a.steps * bs
    print(json.dumps({
        "framework": "pytorch " + torch.__version__,
        "workload": dict(kind=a.workload, batch_size=bs, **cfg),
        "parameters": sum(p.numel() for p in model.parameters()),
        "threads": torch.get_num_threads(),
        "steps": a.steps,
        "samples": samples,
        "seconds": secs,
        "samples_per_second": samples / secs,
        "flops_per_second": model.flops_per_sample() * samples / secs,
        "loss_first": first,
        "loss_last": last,
    }))


if __name__ == "__main__":
    main()
