"""Shared helpers of the torch tests: a small seeded model and data, and a training loop."""
import copy

import torch

torch.set_num_threads(1)  # deterministic forward/backward, and the machine is shared


def make_model(seed=0, unused_head=False):
    """A 2-layer MLP (8 -> 32 -> 3) from `seed`; optionally with a head the loss never uses."""
    torch.manual_seed(seed)
    layers = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))
    if unused_head:
        layers.add_module("unused", torch.nn.Linear(3, 2))
    return layers


def make_data(seed=1, n=64):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    y = torch.randint(0, 3, (n,), generator=g)
    return x, y


def forward(model, x):
    # The unused head (when present) is skipped: its parameters get no gradient.
    for name, module in model.named_children():
        if name != "unused":
            x = module(x)
    return x


def train(model, optimizer, steps, scheduler=None, batch=16, zero_grad=None):
    """`steps` steps of cross-entropy on fixed batches; returns the loss of every step."""
    x, y = make_data()
    losses = []
    for step in range(steps):
        lo = (step * batch) % x.shape[0]
        loss = torch.nn.functional.cross_entropy(forward(model, x[lo:lo + batch]), y[lo:lo + batch])
        (zero_grad or optimizer.zero_grad)()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return losses


def twin_models(**kwargs):
    model = make_model(**kwargs)
    return model, copy.deepcopy(model)


def max_param_diff(a, b):
    return max((pa - pb).abs().max().item() for pa, pb in zip(a.parameters(), b.parameters()))
