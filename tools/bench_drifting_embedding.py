#!/usr/bin/env python3
"""Late-training step time on a model whose optimizer state decays: an embedding table whose hot
rows drift, as in recommendation and language models.

Each step trains nn.Embedding(rows, dim) plus a linear head on `batch` rows drawn from a window of
hot rows that moves through the table. Rows the window has left get zero gradients from then on,
so Adam's exp_avg decays by beta1 every step and turns subnormal after some 800 steps. The script
times optimizer.step() alone, early and late steps in turn on two copies of the model (late/early
is the median of the paired ratios, which a noisy machine moves far less), for simdoptim's drop-in
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


class Trainer:
    """One model and its optimizer, stepping through the drifting batches from step 0."""

    def __init__(self, make_optimizer, args):
        torch.manual_seed(0)
        self.embedding = torch.nn.Embedding(args.rows, args.dim)
        self.head = torch.nn.Linear(args.dim, args.classes)
        params = list(self.embedding.parameters()) + list(self.head.parameters())
        self.optimizer = make_optimizer(params)
        self.generator = torch.Generator().manual_seed(1)
        self.args = args
        self.count = 0

    def step(self):
        """Trains one step; returns the time optimizer.step() took."""
        args = self.args
        # The hot window drifts through the table, wrapping around.
        start = self.count * args.drift % args.rows
        rows = (start + torch.randint(0, args.window, (args.batch,), generator=self.generator)) % args.rows
        targets = torch.randint(0, args.classes, (args.batch,), generator=self.generator)
        self.optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(self.head(self.embedding(rows)), targets)
        loss.backward()
        begin = time.perf_counter()
        self.optimizer.step()
        self.count += 1
        return time.perf_counter() - begin


def run(make_optimizer, args):
    """Early and late step times, measured in turn: a machine that gets busier or quieter moves
    both alike. The late model trains alone to step `steps - 2 span`; then the late model and a
    fresh early one step alternately for 2 span steps, and the last span of them are timed (early
    steps span..2 span, after the first steps' allocations; late steps steps - span..steps)."""
    span = max(1, args.steps // 6)
    late, early = Trainer(make_optimizer, args), Trainer(make_optimizer, args)
    for _ in range(args.steps - 2 * span):
        late.step()
    early_times, late_times, ratios = [], [], []
    for i in range(2 * span):
        t_late, t_early = late.step(), early.step()
        if i >= span:
            early_times.append(t_early)
            late_times.append(t_late)
            ratios.append(t_late / t_early)
    return (statistics.median(early_times), statistics.median(late_times),
            statistics.median(ratios), subnormal_fraction(late.optimizer, late.embedding.weight))


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
    parser.add_argument("--no-torch", action="store_true", help="skip torch.optim.Adam (slow)")
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
    ]
    if not args.no_torch:
        variants.append(("torch.optim.Adam", lambda params: torch.optim.Adam(params, lr=1e-3)))
    print(f"embedding {args.rows} x {args.dim} + linear head, Adam, {args.steps} steps, "
          f"{args.batch} rows per step from a {args.window}-row window drifting "
          f"{args.drift} rows per step; torch threads {torch.get_num_threads()}")
    print(f"{'optimizer':52} {'early ms':>9} {'late ms':>9} {'late/early':>10} {'subnormal':>10}")
    ratio = None
    for label, make in variants:
        early, late, paired, tiny = run(make, args)
        print(f"{label:52} {early * 1e3:9.3f} {late * 1e3:9.3f} {paired:10.2f} "
              f"{100 * tiny:9.1f}%")
        if ratio is None:
            ratio = paired
    if args.check and ratio > 1.1:
        print(f"FAIL: late/early {ratio:.2f} > 1.1 with subnormal state flushed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
