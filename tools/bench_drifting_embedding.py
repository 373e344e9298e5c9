#!/usr/bin/env python3
"""Late-training step time on a model whose optimizer state decays: an embedding table whose hot
rows drift, as in recommendation and language models.

Each step trains nn.Embedding(rows, dim) plus a linear head on `batch` rows drawn from a window of
hot rows that moves through the table. Rows the window has left get zero gradients from then on,
so Adam's exp_avg decays by beta1 every step and turns subnormal after some 800 steps. The script
times optimizer.step() alone (median over the early and the late steps) for simdoptim's drop-in
with subnormal state flushed (the default), with it kept (torch's arithmetic), and for torch.optim,
and prints the fraction of exp_avg that ended subnormal. Usage:

    PYTHONPATH=build/python /usr/bin/python3 tools/bench_drifting_embedding.py [--steps 1200]

--check exits 1 unless the flushing drop-in's late steps take at most 1.1x its early ones.
"""
import argparse
import statistics
import sys
import time

import torch



def subnormal_fraction(optimizer, param):
    m = optimizer.state[param]["exp_avg"]
    tiny = (m != 0) & (m.abs() < torch.finfo(torch.float32).tiny)
    return tiny.float().mean().item()


def run(make_optimizer, args):
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(args.rows, args.dim)
    head = torch.nn.Linear(args.dim, args.classes)
    params = list(embedding.parameters()) + list(head.parameters())
    optimizer = make_optimizer(params)
    generator = torch.Generator().manual_seed(1)
    times = []
    for step in range(args.steps):
        # The hot window drifts through the table, wrapping around.
        start = step * args.drift % args.rows
        rows = (start + torch.randint(0, args.window, (args.batch,), generator=generator)) % args.rows
        targets = torch.randint(0, args.classes, (args.batch,), generator=generator)
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(embedding(rows)), targets)
        loss.backward()
        begin = time.perf_counter()
        optimizer.step()
        times.append(time.perf_counter() - begin)
    span = max(1, args.steps // 6)
    early = statistics.median(times[span : 2 * span])  # after the first steps' allocations
    late = statistics.median(times[-span:])
    return early, late, subnormal_fraction(optimizer, embedding.weight)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--classes", type=int, default=64)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--window", type=int, default=4096, help="hot rows at any step")
    parser.add_argument("--drift", type=int, default=16, help="rows the window moves per step")
    parser.add_argument("--threads", type=int, default=0, help="simdoptim threads (0: all)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the flushing drop-in's late/early ratio is <= 1.1")
    args = parser.parse_args()

    import simdoptim.torch as sot

    def ours(flush):
        def make(params):
            opt = sot.Adam(params, lr=1e-3, num_threads=args.threads)
            opt.flush_subnormal_state = flush
            return opt
        return make

    variants = [
        ("simdoptim Adam (subnormal state flushed, default)", ours(True)),
        ("simdoptim Adam (subnormal state kept)", ours(False)),
        ("torch.optim.Adam", lambda params: torch.optim.Adam(params, lr=1e-3)),
    ]
    print(f"embedding {args.rows} x {args.dim} + linear head, Adam, {args.steps} steps, "
          f"{args.batch} rows per step from a {args.window}-row window drifting "
          f"{args.drift} rows per step; torch threads {torch.get_num_threads()}")
    print(f"{'optimizer':52} {'early ms':>9} {'late ms':>9} {'late/early':>10} {'subnormal':>10}")
    ratio = None
    for label, make in variants:
        early, late, tiny = run(make, args)
        print(f"{label:52} {early * 1e3:9.3f} {late * 1e3:9.3f} {late / early:10.2f} "
              f"{100 * tiny:9.1f}%")
        if ratio is None:
            ratio = late / early
    if args.check and ratio > 1.1:
        print(f"FAIL: late/early {ratio:.2f} > 1.1 with subnormal state flushed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
