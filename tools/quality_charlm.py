#!/usr/bin/env python3
"""Quality of the storage variants on a small character-level language model (docs/precision.md):
a 2-layer transformer trained through simdoptim.torch.AdamW on /usr/share/common-licenses/GPL-3
(every Debian system has it), fixed seeds, a few hundred steps, with fp32 AdamW, 8-bit state
(q8), bf16 parameters with stochastic rounding and with plain rounding, and torch's own AdamW as
a reference line. Records the validation loss after every step, prints the final validation
losses and their ratios to fp32 (targets: q8 within 1 %, bf16 with stochastic rounding within
2 %), and writes the curves as JSON and a PNG plot.

bf16 variants keep the model's parameters (and so their gradients) in torch.bfloat16; the
forward pass widens them and computes in fp32, so the variants differ in the optimizer's storage
only. A variant whose dtype the library does not know yet (q8) is reported as skipped.

Set-up: tools/bootstrap.sh quality (OpenBLAS for torch). Usage:
  PYTHONPATH=build/python tools/quality_charlm.py [--steps 300] [--threads 2]
      [--json docs/data/quality_charlm.json] [--plot docs/img/quality_charlm.png]
  tools/quality_charlm.py --replot docs/data/quality_charlm.json --plot docs/img/quality_charlm.png
"""
import argparse
import glob
import json
import math
import os
import sys
import time


def use_openblas():
    """Re-executes this script with OpenBLAS's libblas.so.3 first on the library path, when
    libopenblas0-pthread is installed (tools/bootstrap.sh quality): Debian's torch calls whatever
    libblas.so.3 resolves to, and the system's stays the reference BLAS the tests assume. Also
    makes torch's idle OpenMP threads sleep: spinning, they took the cores from OpenBLAS's
    threads and a step at 2 threads was 6x slower than at 1 (measured)."""
    dirs = glob.glob("/usr/lib/*/openblas-pthread")
    path = os.environ.get("LD_LIBRARY_PATH", "")
    if "OMP_WAIT_POLICY" not in os.environ or (dirs and dirs[0] not in path.split(":")):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        if dirs:
            os.environ["LD_LIBRARY_PATH"] = ":".join(filter(None, [dirs[0], path]))
        os.execv(sys.executable, [sys.executable] + sys.argv)
    return dirs[0] if dirs else None


# Only when run as a script (an importer keeps its own process and library path).
BLAS = use_openblas() if __name__ == "__main__" else None

import torch  # noqa: E402 (after the library path is set)
import torch.nn.functional as F  # noqa: E402

TEXT = "/usr/share/common-licenses/GPL-3"
# Final validation loss over fp32 AdamW's, at most.
TARGETS = {"q8 state": 1.01, "bf16 params, stochastic rounding": 1.02}


class CharTransformer(torch.nn.Module):
    """A pre-norm GPT-style decoder: token and position embeddings, `layers` blocks of causal
    self-attention and a 4x MLP, a final LayerNorm and an untied head. Parameters may be any
    float dtype; the forward pass computes in fp32."""

    def __init__(self, vocab, context, width, layers, heads):
        super().__init__()
        self.heads = heads
        self.tok = torch.nn.Parameter(torch.randn(vocab, width) * 0.02)
        self.pos = torch.nn.Parameter(torch.randn(context, width) * 0.02)
        self.blocks = torch.nn.ModuleList()
        out_std = 0.02 / math.sqrt(2 * layers)  # GPT-2's scaled init of the residual outputs
        for _ in range(layers):
            block = torch.nn.ParameterDict({
                "ln1_w": torch.nn.Parameter(torch.ones(width)),
                "ln1_b": torch.nn.Parameter(torch.zeros(width)),
                "qkv_w": torch.nn.Parameter(torch.randn(3 * width, width) * 0.02),
                "qkv_b": torch.nn.Parameter(torch.zeros(3 * width)),
                "proj_w": torch.nn.Parameter(torch.randn(width, width) * out_std),
                "proj_b": torch.nn.Parameter(torch.zeros(width)),
                "ln2_w": torch.nn.Parameter(torch.ones(width)),
                "ln2_b": torch.nn.Parameter(torch.zeros(width)),
                "fc1_w": torch.nn.Parameter(torch.randn(4 * width, width) * 0.02),
                "fc1_b": torch.nn.Parameter(torch.zeros(4 * width)),
                "fc2_w": torch.nn.Parameter(torch.randn(width, 4 * width) * out_std),
                "fc2_b": torch.nn.Parameter(torch.zeros(width)),
            })
            self.blocks.append(block)
        self.lnf_w = torch.nn.Parameter(torch.ones(width))
        self.lnf_b = torch.nn.Parameter(torch.zeros(width))
        self.head = torch.nn.Parameter(torch.randn(vocab, width) * 0.02)

    def forward(self, idx):
        f = lambda p: p.float()  # noqa: E731 (bf16 parameters: widened, computed in fp32)
        batch, length = idx.shape
        width = self.tok.shape[1]
        x = F.embedding(idx, f(self.tok)) + f(self.pos)[:length]
        mask = torch.full((length, length), float("-inf")).triu(1)
        for b in self.blocks:
            h = F.layer_norm(x, (width,), f(b["ln1_w"]), f(b["ln1_b"]))
            q, k, v = F.linear(h, f(b["qkv_w"]), f(b["qkv_b"])).split(width, dim=-1)
            q, k, v = (t.view(batch, length, self.heads, -1).transpose(1, 2) for t in (q, k, v))
            att = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1]) + mask
            y = (att.softmax(-1) @ v).transpose(1, 2).reshape(batch, length, width)
            x = x + F.linear(y, f(b["proj_w"]), f(b["proj_b"]))
            h = F.layer_norm(x, (width,), f(b["ln2_w"]), f(b["ln2_b"]))
            x = x + F.linear(F.gelu(F.linear(h, f(b["fc1_w"]), f(b["fc1_b"]))), f(b["fc2_w"]),
                             f(b["fc2_b"]))
        x = F.layer_norm(x, (width,), f(self.lnf_w), f(self.lnf_b))
        return F.linear(x, f(self.head))


def load_text(path, val_fraction):
    text = open(path, encoding="utf-8").read()
    chars = sorted(set(text))
    data = torch.tensor([chars.index(c) for c in text], dtype=torch.long)
    split = int(len(data) * (1 - val_fraction))
    return data[:split], data[split:], len(chars)


def windows(data, context, starts):
    x = torch.stack([data[s:s + context] for s in starts])
    y = torch.stack([data[s + 1:s + 1 + context] for s in starts])
    return x, y


def evaluate(model, data, context, starts, batch=64):
    total, count = 0.0, 0
    with torch.no_grad():
        for lo in range(0, len(starts), batch):
            x, y = windows(data, context, starts[lo:lo + batch])
            logits = model(x)
            total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                     reduction="sum").item()
            count += y.numel()
    return total / count


def make_optimizer(kind, model, lr, weight_decay, threads):
    params = list(model.parameters())
    common = dict(lr=lr, betas=(0.9, 0.99), weight_decay=weight_decay)
    if kind["optimizer"] == "torch":
        return torch.optim.AdamW(params, **common)
    import simdoptim.torch as st
    return st.AdamW(params, num_threads=threads, **common, **kind.get("storage", {}))


VARIANTS = {
    "torch AdamW fp32": {"optimizer": "torch", "dtype": torch.float32},
    "fp32": {"optimizer": "simdoptim", "dtype": torch.float32},
    "q8 state": {"optimizer": "simdoptim", "dtype": torch.float32,
                 "storage": {"state_dtype": "q8"}},
    "bf16 params, stochastic rounding": {"optimizer": "simdoptim", "dtype": torch.bfloat16,
                                         "storage": {"stochastic_rounding": True, "seed": 1}},
    "bf16 params, nearest-even": {"optimizer": "simdoptim", "dtype": torch.bfloat16},
}


def train(name, kind, args, train_data, val_data, vocab):
    torch.manual_seed(args.seed)
    model = CharTransformer(vocab, args.context, args.width, args.layers, args.heads)
    model.to(kind["dtype"])
    try:
        opt = make_optimizer(kind, model, args.lr, args.weight_decay, args.threads)
    except ValueError as e:
        if "dtype" in str(e) and "storage" in kind:
            return {"skipped": f"the library does not know this storage yet: {e}"}
        raise
    warmup = max(1, args.steps // 10)

    def lr_at(step):  # linear warmup, then cosine to 10 %
        if step < warmup:
            return (step + 1) / warmup
        t = (step - warmup) / max(1, args.steps - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    gen = torch.Generator().manual_seed(args.seed + 1)
    last = len(train_data) - args.context - 1
    val_last = len(val_data) - args.context - 1
    # Every step's validation loss on a fixed subset; the final one on every window.
    probe = torch.linspace(0, val_last, args.probe_windows).long().tolist()
    everything = list(range(0, val_last + 1, args.context // 2))
    curve, start = [], time.time()
    for step in range(args.steps):
        starts = torch.randint(0, last + 1, (args.batch,), generator=gen).tolist()
        x, y = windows(train_data, args.context, starts)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        curve.append(evaluate(model, val_data, args.context, probe))
    final = evaluate(model, val_data, args.context, everything)
    seconds = time.time() - start
    print(f"  {name}: final validation loss {final:.4f} ({seconds:.0f} s)", flush=True)
    return {"val_loss_per_step": curve, "final_val_loss": final, "seconds": seconds,
            "final_train_batch_loss": loss.item()}


def plot(results, path, args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for name, r in results.items():
        if "val_loss_per_step" not in r:
            continue
        style = "--" if name.startswith("torch") else "-"
        ax.plot(range(1, len(r["val_loss_per_step"]) + 1), r["val_loss_per_step"], style,
                label=f"{name} (final, all windows: {r['final_val_loss']:.4f})",
                linewidth=1.2)
    ax.set_xlabel("step")
    ax.set_ylabel(f"validation loss, {args.probe_windows} fixed windows (nats/char)")
    ax.set_title(f"char-level transformer on GPL-3: AdamW storage variants "
                 f"({args.steps} steps)", fontsize=10)
    lows = [min(r["val_loss_per_step"]) for r in results.values() if "val_loss_per_step" in r]
    ax.set_ylim(min(lows) * 0.95, min(lows) * 1.6)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--context", type=int, default=64)
    parser.add_argument("--width", type=int, default=128)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--weight-decay", type=float, default=0.01)
    parser.add_argument("--probe-windows", type=int, default=8)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--plot", help="write the plot (PNG) here")
    parser.add_argument("--replot", metavar="JSON",
                        help="only draw --plot from the results a run wrote")
    args = parser.parse_args()
    if args.replot:
        saved = json.load(open(args.replot))
        vars(args).update(saved["settings"])
        plot(saved["results"], args.plot, args)
        return 0

    torch.set_num_threads(args.threads)
    train_data, val_data, vocab = load_text(TEXT, 0.1)
    print(f"{TEXT}: {len(train_data)} train / {len(val_data)} validation characters, "
          f"vocabulary {vocab}; torch {torch.__version__}, {args.threads} threads, "
          f"BLAS: {BLAS or 'the system libblas.so.3 (tools/bootstrap.sh quality for OpenBLAS)'}",
          flush=True)
    results = {}
    for name in args.variants:
        results[name] = train(name, VARIANTS[name], args, train_data, val_data, vocab)
        if "skipped" in results[name]:
            print(f"  {name}: skipped ({results[name]['skipped']})", flush=True)

    base = results.get("fp32", {}).get("final_val_loss")
    failed = []
    print("| variant | final validation loss | / fp32 | target |")
    print("|---|---|---|---|")
    for name, r in results.items():
        if "skipped" in r:
            print(f"| {name} | skipped | | |")
            continue
        ratio = r["final_val_loss"] / base if base else float("nan")
        r["ratio_to_fp32"] = ratio
        target = TARGETS.get(name)
        verdict = ""
        if target is not None:
            verdict = f"<= {target:.2f}: {'met' if ratio <= target else 'MISSED'}"
            if ratio > target:
                failed.append(name)
        print(f"| {name} | {r['final_val_loss']:.4f} | {ratio:.4f} | {verdict} |")
    if args.json:
        os.makedirs(os.path.dirname(args.json) or ".", exist_ok=True)
        with open(args.json, "w") as f:
            json.dump({"text": TEXT, "settings": {k: v for k, v in vars(args).items()
                                                  if k not in ("json", "plot", "replot")},
                       "targets_ratio_to_fp32": TARGETS, "results": results}, f, indent=1)
            f.write("\n")
    if args.plot:
        plot(results, args.plot, args)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
