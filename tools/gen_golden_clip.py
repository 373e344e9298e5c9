#!/usr/bin/python3
"""Writes the torch golden values that tests/test_clip_grad.cpp checks clip_grad_norm_ and
clip_grad_value_ against. Run with Debian's torch (python3-torch, torch 1.13):

    /usr/bin/python3 tools/gen_golden_clip.py [--out tests/data/clip/clip_golden.txt]

File format (whitespace-separated tokens; a float is the 8 hex digits of its float32 bits):

    simdoptim-clip-golden 1
    tensor <name> <numel> <present 0|1> <floats...>     the gradients before each case
    norm <max_norm> <norm_type|inf> <total_norm>        then one `grad` line per present tensor
    value <clip_value>                                  then one `grad` line per present tensor
    grad <name> <floats...>                             the gradient after the case
"""

import argparse
import math
import pathlib
import struct

import torch

SEED = 20240614
# (name, numel, present, scale): sizes around the 16-float alignment and a larger one.
TENSORS = [("a", 1, True, 3.0), ("b", 15, True, 0.5), ("absent", 17, False, 1.0),
           ("c", 100, True, 0.01), ("d", 300, True, 0.2), ("e", 1021, True, 0.05)]
NORM_CASES = [(1.0, 2.0), (1e6, 2.0), (0.5, math.inf), (1e6, math.inf), (2.0, 1.0), (1.0, 3.0),
              (10.0, 0.5)]
VALUE_CASES = [0.1, 10.0]


def hexf(x):
    return format(struct.unpack("<I", struct.pack("<f", float(x)))[0], "08x")


def floats(t):
    return " ".join(hexf(v) for v in t.flatten().tolist())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/data/clip/clip_golden.txt")
    args = ap.parse_args()
    gen = torch.Generator().manual_seed(SEED)
    grads = {name: torch.randn(n, generator=gen, dtype=torch.float32) * scale
             for name, n, _, scale in TENSORS}
    lines = ["simdoptim-clip-golden 1"]
    for name, n, present, _ in TENSORS:
        lines.append(f"tensor {name} {n} {int(present)} {floats(grads[name])}")

    def params():
        ps = []
        for name, n, present, _ in TENSORS:
            p = torch.zeros(n, requires_grad=True)
            p.grad = grads[name].clone() if present else None
            ps.append((name, p))
        return ps

    for max_norm, norm_type in NORM_CASES:
        ps = params()
        total = torch.nn.utils.clip_grad_norm_([p for _, p in ps], max_norm, norm_type)
        nt = "inf" if math.isinf(norm_type) else repr(norm_type)
        lines.append(f"norm {max_norm!r} {nt} {hexf(total.item())}")
        lines += [f"grad {name} {floats(p.grad)}" for name, p in ps if p.grad is not None]
    for clip in VALUE_CASES:
        ps = params()
        torch.nn.utils.clip_grad_value_([p for _, p in ps], clip)
        lines.append(f"value {clip!r}")
        lines += [f"grad {name} {floats(p.grad)}" for name, p in ps if p.grad is not None]
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"wrote {out} ({len(lines)} lines)")


if __name__ == "__main__":
    main()
