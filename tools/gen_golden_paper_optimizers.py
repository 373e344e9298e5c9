#!/usr/bin/python3
"""Writes the golden trajectories of Lion, LAMB, LARS and Adafactor that
tests/test_paper_optimizers.cpp replays, from the NumPy references of
tools/reference_optimizers.py (none of them is in torch 1.13). Two param groups, 30 steps, some
gradients absent, over a grid of options; the file format is tools/gen_golden_torch_sgd_adam.py's
(version 1), whose helpers this script imports. Adafactor's row_var/col_var are not the
parameter's size, so its final-state records carry `variance` (1-D tensors) only.

    /usr/bin/python3 tools/gen_golden_paper_optimizers.py [--out tests/data/paper_optimizers]
"""

import argparse
import itertools
import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_golden_optim as base  # noqa: E402
import reference_optimizers as ref  # noqa: E402

SEED = base.SEED + 200
# gen_golden_optim's tensors plus a 3-D one, so that Adafactor factors a batch of matrices.
TENSORS = base.TENSORS + [(1, "h", (2, 3, 4))]
ABSENT = dict(base.ABSENT, h={7, 8})


def grid(**axes):
    keys = list(axes)
    for values in itertools.product(*(axes[k] for k in keys)):
        yield dict(zip(keys, values))


def case_name(prefix, options):
    return prefix + "".join("_%s%g" % (k, float(v)) for k, v in options.items())


def lion_cases():
    for o in grid(weight_decay=(0.0, 0.1), maximize=(False, True)):
        g0 = dict(lr=1e-3, beta1=0.9, beta2=0.99, **o)
        g1 = dict(g0, lr=3e-4, beta1=0.95, beta2=0.98,
                  weight_decay=0.0 if o["weight_decay"] else 0.5)
        yield case_name("lion", o), [g0, g1]


def lamb_cases():
    # max_grad_norm is the optimizer's, not the group's: both groups carry the same value. The
    # other flags ride along the three axes so that each takes both values.
    for o in grid(weight_decay=(0.0, 0.01), bias_correction=(False, True),
                  max_grad_norm=(0.0, 1.0)):
        o.update(grad_averaging=not o["bias_correction"], trust_clip=bool(o["max_grad_norm"]),
                 always_adapt=not o["weight_decay"] and o["bias_correction"])
        g0 = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-6, **o)
        g1 = dict(g0, lr=5e-3, beta1=0.8, beta2=0.99, eps=1e-8,
                  weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("lamb", o), [g0, g1]


def lars_cases():
    for o in grid(momentum=(0.0, 0.9), weight_decay=(0.0, 1e-2), exclude_1d=(False, True)):
        o.update(nesterov=bool(o["momentum"]) and o["exclude_1d"], trust_clip=o["exclude_1d"],
                 always_adapt=not o["weight_decay"] and not o["exclude_1d"])
        g0 = dict(lr=0.5, dampening=0.0, trust_coeff=1e-3, eps=1e-8, **o)
        g1 = dict(g0, lr=0.1, trust_coeff=2e-2, momentum=0.5 if o["momentum"] else 0.0,
                  dampening=0.0 if o["nesterov"] else 0.1,
                  weight_decay=0.0 if o["weight_decay"] else 0.05)
        yield case_name("lars", o), [g0, g1]


def adafactor_cases():
    for o in grid(weight_decay=(0.0, 0.1), maximize=(False, True), d=(1.0, 1.5)):
        g0 = dict(lr=1e-2, beta2_decay=-0.8, eps1=float(np.finfo(np.float32).eps), eps2=1e-3, **o)
        g1 = dict(g0, lr=0.3, beta2_decay=-0.5, eps1=1e-3, eps2=1e-2,
                  weight_decay=0.0 if o["weight_decay"] else 0.05)
        yield case_name("adafactor", o), [g0, g1]


OPTIMIZERS = {
    "lion": (ref.Lion, lion_cases),
    "lamb": (ref.Lamb, lamb_cases),
    "lars": (ref.Lars, lars_cases),
    "adafactor": (ref.Adafactor, adafactor_cases),
}


def make_reference(kind, options):
    groups = [(o, [name for g, name, _ in TENSORS if g == i]) for i, o in enumerate(options)]
    if kind == "lamb":
        return ref.Lamb(groups, max_grad_norm=options[0]["max_grad_norm"])
    return OPTIMIZERS[kind][0](groups)


def run_case(kind, options, init, grads):
    opt = make_reference(kind, options)
    params = {name: init[name].copy() for _, name, _ in TENSORS}
    lines = []
    for step in range(base.STEPS):
        opt.step(params, grads[step])
        for _, name, _ in TENSORS:
            lines.append("param %d %s %s" % (step, name, base.hex_floats(torch.from_numpy(
                params[name]))))
    for _, name, _ in TENSORS:
        state = opt.state.get(name, {})
        arrays = [(k, v) for k, v in state.items()
                  if isinstance(v, np.ndarray) and v.shape == params[name].shape]
        body = " ".join("%s %s" % (k, base.hex_floats(torch.from_numpy(v))) for k, v in arrays)
        lines.append(("state %s %d %d %s" % (name, state.get("step", 0), len(arrays), body))
                     .rstrip())
    return lines


def write_file(path, kind):
    gen = torch.Generator().manual_seed(SEED + list(OPTIMIZERS).index(kind))
    init = {name: torch.randn(shape, generator=gen).numpy() for _, name, shape in TENSORS}
    grads = [{name: None if step in ABSENT.get(name, ()) else
              torch.randn(shape, generator=gen).numpy() for _, name, shape in TENSORS}
             for step in range(base.STEPS)]
    cases = list(OPTIMIZERS[kind][1]())
    lines = [
        "# NumPy reference (tools/reference_optimizers.py), numpy %s." % np.__version__,
        "# Generated by tools/gen_golden_paper_optimizers.py; do not edit.",
        "simdoptim-golden 1",
        "optimizer %s" % kind,
        "steps %d" % base.STEPS,
        "tensors %d" % len(TENSORS),
    ]
    for group, name, shape in TENSORS:
        lines.append("tensor %d %s %d %s" % (group, name, len(shape),
                                             " ".join(str(d) for d in shape)))
    for _, name, _ in TENSORS:
        lines.append("init %s %s" % (name, base.hex_floats(torch.from_numpy(init[name]))))
    for step in range(base.STEPS):
        for _, name, _ in TENSORS:
            g = grads[step][name]
            lines.append("grad %d %s %s" % (step, name, "none" if g is None else
                                            base.hex_floats(torch.from_numpy(g))))
    lines.append("cases %d" % len(cases))
    for name, options in cases:
        lines.append("case %s" % name)
        lines.extend(base.option_line(i, o) for i, o in enumerate(options))
        lines.extend(run_case(kind, options, init, grads))
    path.write_text("\n".join(lines) + "\n")
    print("%s: %d cases, %d bytes" % (path, len(cases), path.stat().st_size))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=pathlib.Path,
                        default=root / "tests" / "data" / "paper_optimizers")
    parser.add_argument("names", nargs="*", default=list(OPTIMIZERS))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in args.names:
        write_file(args.out / ("%s.golden" % kind), kind)


if __name__ == "__main__":
    main()
