#!/usr/bin/python3
"""Writes the golden trajectories that tests/test_torch_elementwise.cpp replays.

For RMSprop, Adagrad, NAdam, RAdam, Adamax, Adadelta, Rprop and ASGD it runs torch 1.13's
single-tensor implementation (foreach=False) over a grid of options, two param groups and the
tensors, gradients and absent gradients of tools/gen_golden_torch_sgd_adam.py (whose helpers it imports).
NAdam's and RAdam's `decoupled_weight_decay` is newer than torch 1.13: those cases come from the
NumPy implementations below (tools/numpy_optim_ref.py), which are checked against torch on the
cases torch 1.13 can run. Run with Debian's torch (python3-torch, torch 1.13):

    /usr/bin/python3 tools/gen_golden_torch_elementwise.py [--out tests/data/torch_elementwise] [names...]

The file format is gen_golden_torch_sgd_adam.py's, version 2: after each tensor's `state` line comes

    scalars <name> <K> (<key> <float>)*K        torch's 0-d state tensors other than `step`
                                                (NAdam's mu_product, ASGD's eta and mu)

and `state` carries the step count whether torch keeps it as an int or as a tensor.
"""

import argparse
import itertools
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import gen_golden_optim as base  # noqa: E402
import numpy_optim_ref  # noqa: E402

# Seeds differ per optimizer so every file sees other data.
SEED = base.SEED + 100


def grid(**axes):
    """Every combination of the named option values, as dicts."""
    keys = list(axes)
    for values in itertools.product(*(axes[k] for k in keys)):
        yield dict(zip(keys, values))


def case_name(prefix, options):
    return prefix + "".join("_%s%g" % (k, float(v)) for k, v in options.items())


def rmsprop_cases():
    for o in grid(momentum=(0.0, 0.9), centered=(False, True), weight_decay=(0.0, 1e-2),
                  maximize=(False, True)):
        g0 = dict(lr=1e-2, alpha=0.99, eps=1e-8, **o)
        g1 = dict(g0, lr=3e-3, alpha=0.9, eps=1e-6, momentum=0.5 if o["momentum"] else 0.0,
                  weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("rmsprop", o), [g0, g1]


def adagrad_cases():
    # torch 1.13 fills state['sum'] with the constructor's initial_accumulator_value for every
    # group, so both groups use the same value here.
    for o in grid(lr_decay=(0.0, 1e-2), weight_decay=(0.0, 1e-2),
                  initial_accumulator_value=(0.0, 0.1), maximize=(False, True)):
        g0 = dict(lr=1e-2, eps=1e-10, **o)
        g1 = dict(g0, lr=5e-2, eps=1e-8, lr_decay=0.05 if o["lr_decay"] else 0.0,
                  weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("adagrad", o), [g0, g1]


def nadam_cases():
    for o in grid(weight_decay=(0.0, 1e-2), momentum_decay=(4e-3, 3e-2),
                  decoupled_weight_decay=(False, True)):
        g0 = dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, **o)
        g1 = dict(g0, lr=1e-2, beta1=0.8, beta2=0.99, eps=1e-6,
                  weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("nadam", o), [g0, g1]


def radam_cases():
    # beta2 = 0.9 keeps rho_t <= 5 for the first steps of group 1: both branches run.
    for o in grid(weight_decay=(0.0, 1e-2), decoupled_weight_decay=(False, True)):
        g0 = dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, **o)
        g1 = dict(g0, lr=1e-2, beta1=0.8, beta2=0.9, eps=1e-6,
                  weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("radam", o), [g0, g1]


def adamax_cases():
    for o in grid(weight_decay=(0.0, 1e-2), maximize=(False, True)):
        g0 = dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, **o)
        g1 = dict(g0, lr=1e-2, beta1=0.8, beta2=0.9, eps=1e-3,
                  weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("adamax", o), [g0, g1]


def adadelta_cases():
    for o in grid(weight_decay=(0.0, 1e-2), maximize=(False, True)):
        g0 = dict(lr=1.0, rho=0.9, eps=1e-6, **o)
        g1 = dict(g0, lr=0.5, rho=0.5, eps=1e-4, weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("adadelta", o), [g0, g1]


def rprop_cases():
    # Tight step_sizes in group 1 make the clamp bind from both sides.
    for o in grid(maximize=(False, True), etaminus=(0.5, 0.3)):
        g0 = dict(lr=1e-2, etaplus=1.2, step_size_min=1e-6, step_size_max=50.0, **o)
        g1 = dict(g0, lr=2e-2, etaplus=1.5, step_size_min=5e-3, step_size_max=3e-2)
        yield case_name("rprop", o), [g0, g1]


def asgd_cases():
    # t0 = 5 starts the averaging (mu != 1) within the run.
    for o in grid(weight_decay=(0.0, 1e-2), maximize=(False, True), t0=(1e6, 5.0)):
        g0 = dict(lr=1e-2, lambd=1e-4, alpha=0.75, **o)
        g1 = dict(g0, lr=5e-2, lambd=1e-2, alpha=0.5, t0=o["t0"] * 2,
                  weight_decay=0.0 if o["weight_decay"] else 0.1)
        yield case_name("asgd", o), [g0, g1]


def to_torch_group(options):
    """Our flat option dict as a torch group dict: betas, etas and step_sizes are tuples."""
    group = base.to_torch_group(options)
    pairs = {"etas": ("etaminus", "etaplus"), "step_sizes": ("step_size_min", "step_size_max")}
    for name, (lo, hi) in pairs.items():
        if lo in group:
            group[name] = (group.pop(lo), group.pop(hi))
    return group


def make_optimizer(kind, groups, options):
    """torch's optimizer for `kind`, or the NumPy reference where torch 1.13 cannot run it."""
    if any(o.get("decoupled_weight_decay") for o in options):
        return numpy_optim_ref.OPTIMIZERS[kind](groups)
    for g in groups:
        g.pop("decoupled_weight_decay", None)
    if kind == "adagrad":
        init = options[0]["initial_accumulator_value"]
        return torch.optim.Adagrad(groups, initial_accumulator_value=init, foreach=False)
    cls = {"rmsprop": torch.optim.RMSprop, "nadam": torch.optim.NAdam,
           "radam": torch.optim.RAdam, "adamax": torch.optim.Adamax,
           "adadelta": torch.optim.Adadelta, "rprop": torch.optim.Rprop,
           "asgd": torch.optim.ASGD}[kind]
    return cls(groups, foreach=False)


def run_case(kind, options, init, grads, make=make_optimizer):
    """Runs one case; returns the lines of its params-after-step and final-state records."""
    params = {name: init[name].clone().requires_grad_(True) for _, name, _ in base.TENSORS}
    groups = []
    for index, opts in enumerate(options):
        group = to_torch_group(opts)
        group["params"] = [params[name] for g, name, _ in base.TENSORS if g == index]
        groups.append(group)
    opt = make(kind, groups, options)

    lines = []
    for step in range(base.STEPS):
        for _, name, _ in base.TENSORS:
            g = grads[step][name]
            params[name].grad = None if g is None else g.clone()
        opt.step()
        for _, name, _ in base.TENSORS:
            lines.append("param %d %s %s" % (step, name, base.hex_floats(params[name])))

    for _, name, _ in base.TENSORS:
        state = opt.state[params[name]]
        step = int(state["step"]) if "step" in state else -1
        arrays = [(k, v) for k, v in state.items()
                  if k != "step" and torch.is_tensor(v) and v.dim() > 0]
        scalars = [(k, v) for k, v in state.items()
                   if k != "step" and torch.is_tensor(v) and v.dim() == 0]
        body = " ".join("%s %s" % (k, base.hex_floats(v)) for k, v in arrays)
        lines.append(("state %s %d %d %s" % (name, step, len(arrays), body)).rstrip())
        body = " ".join("%s %s" % (k, base.hex_floats(v)) for k, v in scalars)
        lines.append(("scalars %s %d %s" % (name, len(scalars), body)).rstrip())
    return lines


CASES = {
    "rmsprop": rmsprop_cases, "adagrad": adagrad_cases, "nadam": nadam_cases,
    "radam": radam_cases, "adamax": adamax_cases, "adadelta": adadelta_cases,
    "rprop": rprop_cases, "asgd": asgd_cases,
}


def data(kind):
    """The initial parameters and every step's gradients (None where absent) for `kind`."""
    gen = torch.Generator().manual_seed(SEED + list(CASES).index(kind))
    init = {name: torch.randn(shape, generator=gen) for _, name, shape in base.TENSORS}
    grads = [{name: None if step in base.ABSENT.get(name, ()) else
              torch.randn(shape, generator=gen) for _, name, shape in base.TENSORS}
             for step in range(base.STEPS)]
    return init, grads


def check_numpy_reference(kind, cases, init, grads):
    """The NumPy reference must follow torch wherever torch 1.13 runs the same case."""
    numpy_make = lambda k, groups, options: numpy_optim_ref.OPTIMIZERS[k](groups)  # noqa: E731
    for name, options in cases:
        if any(o.get("decoupled_weight_decay") for o in options):
            continue
        ours = run_case(kind, options, init, grads, make=numpy_make)
        theirs = run_case(kind, options, init, grads)
        worst = numpy_optim_ref.max_relative_difference(ours, theirs)
        print("  numpy reference vs torch on %s: max relative difference %.2e" % (name, worst))
        if worst > 1e-5:
            raise SystemExit("NumPy reference for %s disagrees with torch on %s" % (kind, name))


def write_file(path, kind):
    cases = list(CASES[kind]())
    init, grads = data(kind)
    if kind in numpy_optim_ref.OPTIMIZERS:
        check_numpy_reference(kind, cases, init, grads)
    capability = [line.split(":", 1)[1].strip() for line in torch.__config__.show().splitlines()
                  if "CPU capability" in line]
    lines = [
        "# torch %s (CPU capability %s), single-tensor (foreach=False) implementation%s"
        % (torch.__version__, capability[0] if capability else "unknown",
           "; decoupled_weight_decay cases from tools/numpy_optim_ref.py."
           if kind in numpy_optim_ref.OPTIMIZERS else "."),
        "# Generated by tools/gen_golden_torch_elementwise.py; do not edit.",
        "simdoptim-golden 2",
        "optimizer %s" % kind,
        "steps %d" % base.STEPS,
        "tensors %d" % len(base.TENSORS),
    ]
    for group, name, shape in base.TENSORS:
        lines.append("tensor %d %s %d %s" % (group, name, len(shape),
                                             " ".join(str(d) for d in shape)))
    for _, name, _ in base.TENSORS:
        lines.append("init %s %s" % (name, base.hex_floats(init[name])))
    for step in range(base.STEPS):
        for _, name, _ in base.TENSORS:
            g = grads[step][name]
            lines.append("grad %d %s %s" % (step, name,
                                            "none" if g is None else base.hex_floats(g)))
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
                        default=root / "tests" / "data" / "torch_elementwise")
    parser.add_argument("names", nargs="*", help="optimizers to write (default: all)")
    args = parser.parse_args()
    unknown = set(args.names) - set(CASES)
    if unknown:
        parser.error("unknown optimizer(s) %s; known: %s" % (sorted(unknown), ", ".join(CASES)))
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    for kind in args.names or list(CASES):
        write_file(args.out / ("%s.golden" % kind), kind)


if __name__ == "__main__":
    main()
