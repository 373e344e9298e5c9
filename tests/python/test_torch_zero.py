"""simdoptim.torch drop-ins as the optimizer_class of torch's ZeroRedundancyOptimizer (each of 2
gloo processes keeps the state of its share of the parameters): the same parameters as one
drop-in stepping the same averaged gradients, bit for bit."""
import copy
import os
import tempfile
import unittest

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch.distributed.optim import ZeroRedundancyOptimizer

import simdoptim.torch as st

WORLD = 2
STEPS = 3


def _model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))


def _averaged_grads(model, rank, step):
    """This rank's gradients of its own batch, averaged over the ranks (DDP's part)."""
    gen = torch.Generator().manual_seed(1000 * step + rank)
    model(torch.randn(5, 8, generator=gen)).square().mean().backward()
    for p in model.parameters():
        dist.all_reduce(p.grad)
        p.grad /= WORLD


def _worker(rank, init_file, name, out_dir):
    dist.init_process_group("gloo", init_method="file://" + init_file, rank=rank,
                            world_size=WORLD)
    cls = getattr(st, name)
    model = _model()
    reference = copy.deepcopy(model)
    zero = ZeroRedundancyOptimizer(model.parameters(), optimizer_class=cls, lr=0.01,
                                   weight_decay=0.1, num_threads=1)
    single = cls(reference.parameters(), lr=0.01, weight_decay=0.1, num_threads=1)
    for step in range(STEPS):
        zero.zero_grad()
        _averaged_grads(model, rank, step)
        zero.step()
        single.zero_grad()
        for p, q in zip(reference.parameters(), model.parameters()):
            p.grad = q.grad.clone()
        single.step()
    with_state = sum(1 for p in model.parameters() if len(zero.optim.state.get(p, {})) > 0)
    torch.save({"params": [p.detach().clone() for p in model.parameters()],
                "reference": [p.detach().clone() for p in reference.parameters()],
                "with_state": with_state},
               os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


class ZeroRedundancyDropIn(unittest.TestCase):
    def run_two_ranks(self, name):
        with tempfile.TemporaryDirectory() as tmp:
            mp.spawn(_worker, args=(os.path.join(tmp, "init"), name, tmp), nprocs=WORLD)
            results = [torch.load(os.path.join(tmp, f"rank{r}.pt")) for r in range(WORLD)]
        for r, res in enumerate(results):
            for a, b in zip(res["params"], res["reference"]):
                self.assertTrue(torch.equal(a, b), f"{name} rank {r}")
            for a, b in zip(res["params"], results[0]["params"]):
                self.assertTrue(torch.equal(a, b), f"{name} rank {r} differs from rank 0")
        return [res["with_state"] for res in results]

    def test_adamw(self):
        # Each rank keeps the state of its own parameters only: 4 tensors in all.
        with_state = self.run_two_ranks("AdamW")
        self.assertGreater(min(with_state), 0)
        self.assertEqual(sum(with_state), 4)

    def test_sgd(self):
        self.run_two_ranks("SGD")


if __name__ == "__main__":
    unittest.main()
