#!/usr/bin/python3
"""Writes the torch-exported checkpoint golden files that tests/test_checkpoint.cpp reads, so the
C++ tests check tools/convert_checkpoint.py's output without needing torch. Run with Debian's
torch (python3-torch, torch 1.13):

    /usr/bin/python3 tools/gen_golden_checkpoint.py [--out tests/data/checkpoint]

torch.optim.Adam (two groups, weight decay, one parameter without a gradient on step 2) runs 3
steps; its state_dict is saved with torch.save and converted with convert_checkpoint.py
from-torch (names, shapes and the parameters' values from the model) into torch_adam.ckpt. Then
torch takes step 4; torch_adam_next.txt holds that step's gradients and the parameters after it
(float32 bit patterns in hex), one line each: `grad|param <name> <floats...>`.
"""

import argparse
import pathlib
import sys
import tempfile

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import convert_checkpoint  # noqa: E402

SHAPES = [[("w", (3, 5)), ("b", (5,))], [("v", (17,))]]


def hexes(t):
    import struct
    return " ".join(format(struct.unpack("<I", struct.pack("<f", x))[0], "08x")
                    for x in t.flatten().tolist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/checkpoint")
    out = pathlib.Path(ap.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(6)
    params = [[(n, torch.randn(s, generator=gen).requires_grad_()) for n, s in g] for g in SHAPES]
    opt = torch.optim.Adam([{"params": [p for _, p in params[0]]},
                            {"params": [p for _, p in params[1]], "lr": 5e-3}],
                           lr=1e-2, weight_decay=0.01, foreach=False)
    named = [(n, p) for g in params for n, p in g]
    for step in range(1, 4):
        for name, p in named:
            p.grad = None if (name == "b" and step == 2) else torch.randn(p.shape, generator=gen)
        opt.step()
    like = {"optimizer": "adam", "groups": [
        {"tensors": [{"name": n, "shape": list(p.shape), "param": p.detach().flatten().tolist()}
                     for n, p in g]} for g in params]}
    with tempfile.TemporaryDirectory() as tmp:
        pt = pathlib.Path(tmp) / "adam.pt"
        torch.save(opt.state_dict(), pt)
        ckpt = convert_checkpoint.from_torch(torch.load(pt), "adam", like)
    convert_checkpoint.write_ours(ckpt, str(out / "torch_adam.ckpt"))
    lines = []
    for name, p in named:
        p.grad = torch.randn(p.shape, generator=gen)
        lines.append(f"grad {name} {hexes(p.grad)}")
    opt.step()
    lines += [f"param {name} {hexes(p.detach())}" for name, p in named]
    (out / "torch_adam_next.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {out}/torch_adam.ckpt and torch_adam_next.txt")


if __name__ == "__main__":
    main()
