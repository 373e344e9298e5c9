#!/usr/bin/env python3
"""The simdoptim.torch drop-in's step with gradients outside the arenas (what autograd allocates
after zero_grad(set_to_none=True)) against the arena path (zero_grad(set_to_none=False), which
binds p.grad to the arena), on ResNet-18's parameter shapes, with torch.optim's step in the same
run for reference. Only opt.step() is timed; the gradients are fresh tensors made once, as
autograd's allocations would be. The optimizers step in turn, one step each per round.

    PYTHONPATH=build/python /usr/bin/python3 tools/bench_dropin_grads.py [--steps 30] [--threads 0]

ResNet-18's shapes come from torchvision when it is installed (Debian: python3-torchvision),
else from the list below (the same 62 tensors, 11,689,512 elements).
"""
import argparse
import mmap
import statistics
import time

import torch

import simdoptim.torch as st


def resnet18_shapes():
    try:
        import torchvision
        return [tuple(p.shape) for p in torchvision.models.resnet18().parameters()]
    except ImportError:
        pass
    shapes = [(64, 3, 7, 7), (64,), (64,)]
    cin = 64
    for width in (64, 128, 256, 512):
        for block in range(2):
            shapes += [(width, cin, 3, 3), (width,), (width,), (width, width, 3, 3), (width,),
                       (width,)]
            if block == 0 and cin != width:
                shapes += [(width, cin, 1, 1), (width,), (width,)]
            cin = width
    return shapes + [(1000, 512), (1000,)]


def huge_page_tensors(shapes, like):
    """Copies of `like` in one mmap advised to use transparent huge pages (2 MiB), as the arenas
    are, each 64-byte aligned: separates the pages' cost from the step's."""
    sizes = [(int(torch.Size(s).numel()) + 15) // 16 * 16 for s in shapes]
    buf = mmap.mmap(-1, sum(sizes) * 4)
    buf.madvise(mmap.MADV_HUGEPAGE)
    flat = torch.frombuffer(buf, dtype=torch.float32)
    out, at = [], 0
    for s, n, g in zip(shapes, sizes, like):
        t = flat[at:at + g.numel()].view(s)
        t.copy_(g)
        out.append(t)
        at += n
    return out


def median_ms(times):
    return statistics.median(times) * 1e3


def one_step(opt, params, grads, set_to_none):
    opt.zero_grad(set_to_none=set_to_none)
    for p, g in zip(params, grads):
        if p.grad is None:
            p.grad = g  # a fresh gradient, as autograd allocates it
        else:
            p.grad.copy_(g)  # autograd accumulating into the existing (arena) gradient
    start = time.perf_counter()
    opt.step()
    return time.perf_counter() - start


def run(cases, steps):
    """Steps every case once per round, in turn, so that the machine's load moves them alike;
    returns each case's step times without the first two rounds (they allocate state)."""
    built = [(make(params), params, grads, set_to_none)
             for make, params, grads, set_to_none in cases]
    times = [[] for _ in cases]
    for _ in range(steps):
        for k, case in enumerate(built):
            times[k].append(one_step(*case))
    return [t[2:] for t in times]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=0, help="simdoptim threads (0: all cores)")
    ap.add_argument("--huge-grads", action="store_true",
                    help="also time set_to_none=True with gradients on 2 MiB pages")
    args = ap.parse_args()
    shapes = resnet18_shapes()
    torch.manual_seed(0)
    grads = [torch.randn(s) * 1e-2 for s in shapes]
    huge = huge_page_tensors(shapes, grads) if args.huge_grads else None
    numel = sum(g.numel() for g in grads)

    def fresh_params():
        return [torch.nn.Parameter(torch.randn(s)) for s in shapes]

    def simd(params):
        return st.AdamW(params, lr=1e-3, weight_decay=0.05, num_threads=args.threads)

    def reference(params):
        return torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05)

    runs = [("simdoptim arena (set_to_none=False)", simd, False, grads),
            ("simdoptim set_to_none=True", simd, True, grads),
            ("torch.optim.AdamW set_to_none=True", reference, True, grads)]
    if huge is not None:
        runs.insert(2, ("simdoptim set_to_none=True, 2 MiB pages", simd, True, huge))
    times = run([(make, fresh_params(), g, stn) for _, make, stn, g in runs], args.steps)
    results = {label: median_ms(t) for (label, *_), t in zip(runs, times)}
    # Same-round ratio: each round's set_to_none=True step over its arena step.
    ratio = statistics.median(b / a for a, b in zip(times[0], times[1]))
    print(f"AdamW step on ResNet-18's shapes ({len(shapes)} tensors, {numel:,} elements), "
          f"torch {torch.__version__}, {torch.get_num_threads()} torch threads, median of "
          f"{args.steps - 2} steps:")
    for label, ms in results.items():
        print(f"  {label:40s} {ms:8.2f} ms")
    arena = results["simdoptim arena (set_to_none=False)"]
    outside = results["simdoptim set_to_none=True"]
    print(f"  set_to_none=True / arena: {outside / arena:.3f}x (median of same-round ratios "
          f"{ratio:.3f}x);  torch / simdoptim "
          f"set_to_none=True: {results['torch.optim.AdamW set_to_none=True'] / outside:.2f}x")
    if huge is not None:
        print(f"  set_to_none=True on 2 MiB pages / arena: "
              f"{results['simdoptim set_to_none=True, 2 MiB pages'] / arena:.3f}x")


if __name__ == "__main__":
    main()
