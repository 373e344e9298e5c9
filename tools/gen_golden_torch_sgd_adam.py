#!/usr/bin/python3
"""Writes the torch golden trajectories that tests/test_torch_sgd_adam.cpp replays.

For SGD, Adam and AdamW it runs torch.optim's default single-tensor implementation
(foreach=False) over a grid of options and records, as exact float32 bit patterns, the initial
parameters, every step's gradients (or their absence) and the parameters after every step, plus
the final optimizer state. Run with Debian's torch (package python3-torch, torch 1.13):

    /usr/bin/python3 tools/gen_golden_torch_sgd_adam.py [--out tests/data/torch_sgd_adam]

File format (whitespace-separated tokens, '#' starts a comment line; a float is the 8 hex
digits of its float32 bit pattern, an option value a shortest round-trip decimal double):

    simdoptim-golden 1
    optimizer <sgd|adam|adamw>
    steps <S>
    tensors <T>
    tensor <group> <name> <ndim> <dims...>          T lines, groups in order
    init <name> <floats...>                         T lines
    grad <step> <name> none | <floats...>           S*T lines
    cases <C>
    case <name>                                     then, per case:
    options <group> <K> <key value>*K               one line per group
    param <step> <name> <floats...>                 S*T lines, values after that step
    state <name> <step|-1> <A> (<array> <floats...>)*A  T lines, final state
"""

import argparse
import itertools
import pathlib
import struct

import torch

STEPS = 30
SEED = 20240613

# (group, name, shape). Sizes straddle the 16-float (64 B) tensor alignment and the 64-float
# arena padding: 1, 15, 16, 17, 18, 33, 65.
TENSORS = [
    (0, "a", (1,)),
    (0, "b", (17,)),
    (0, "c", (3, 5)),
    (0, "d", (33,)),
    (1, "e", (16,)),
    (1, "f", (2, 9)),
    (1, "g", (65,)),
]

# Steps (0-based) on which a tensor's gradient is None. "c" is absent on the very first step,
# so its state is created late and its step count lags; on step 12 all of group 1 is absent.
ABSENT = {
    "c": {0, 3, 4, 10, 17, 29},
    "e": {12},
    "f": {12},
    "g": {5, 6, 12, 24},
}


def hex_floats(t):
    """The float32 bit patterns of a tensor, flattened, as 8-hex-digit words."""
    flat = t.detach().to(torch.float32).contiguous().view(-1).tolist()
    return " ".join("%08x" % struct.unpack("<I", struct.pack("<f", x))[0] for x in flat)


def sgd_cases():
    """SGD: momentum x dampening x nesterov x weight_decay x maximize, minus what torch rejects."""
    for momentum, dampening, nesterov, wd, maximize in itertools.product(
        (0.0, 0.9), (0.0, 0.1), (False, True), (0.0, 1e-2), (False, True)
    ):
        if nesterov and (momentum <= 0 or dampening != 0):
            continue
        g0 = dict(lr=0.05, momentum=momentum, dampening=dampening, weight_decay=wd,
                  nesterov=nesterov, maximize=maximize)
        g1 = dict(g0, lr=0.02, momentum=0.5 if momentum else 0.0,
                  weight_decay=0.0 if wd else 0.1)
        name = "sgd_m%g_d%g_nest%d_wd%g_max%d" % (momentum, dampening, nesterov, wd, maximize)
        yield name, [g0, g1]


def adam_cases(decoupled):
    """Adam / AdamW: amsgrad x weight_decay x maximize. AdamW also runs with weight_decay left
    out, so its default (1e-2) is exercised on both sides."""
    prefix = "adamw" if decoupled else "adam"
    decays = (0.0, 1e-2, None) if decoupled else (0.0, 1e-2)
    for amsgrad, wd, maximize in itertools.product((False, True), decays, (False, True)):
        g0 = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=amsgrad, maximize=maximize)
        g1 = dict(g0, lr=3e-3, beta1=0.8, beta2=0.99, eps=1e-6)
        if wd is not None:
            g0["weight_decay"] = wd
            g1["weight_decay"] = 0.0 if wd else 0.1
        name = "%s_ams%d_wd%s_max%d" % (prefix, amsgrad, "default" if wd is None else "%g" % wd,
                                         maximize)
        yield name, [g0, g1]


def to_torch_group(options):
    """Our flat option dict (beta1/beta2) as a torch param-group dict (betas tuple)."""
    group = {k: v for k, v in options.items() if k not in ("beta1", "beta2")}
    if "beta1" in options:
        group["betas"] = (options["beta1"], options["beta2"])
    return group


def make_optimizer(kind, groups):
    if kind == "sgd":
        return torch.optim.SGD(groups, lr=1e-3, foreach=False)
    if kind == "adam":
        return torch.optim.Adam(groups, foreach=False)
    return torch.optim.AdamW(groups, foreach=False)


def option_line(index, options):
    # repr() of a float is its shortest round-trip decimal: C++ from_chars reads the same double.
    items = " ".join("%s %s" % (k, repr(float(v))) for k, v in options.items())
    return "options %d %d %s" % (index, len(options), items)


def run_case(kind, options, init, grads):
    """Runs one case; returns the lines of its params-after-step and final-state records."""
    params = {name: init[name].clone().requires_grad_(True) for _, name, _ in TENSORS}
    groups = []
    for index, opts in enumerate(options):
        group = to_torch_group(opts)
        group["params"] = [params[name] for g, name, _ in TENSORS if g == index]
        groups.append(group)
    opt = make_optimizer(kind, groups)

    lines = []
    for step in range(STEPS):
        for _, name, _ in TENSORS:
            g = grads[step][name]
            params[name].grad = None if g is None else g.clone()
        opt.step()
        for _, name, _ in TENSORS:
            lines.append("param %d %s %s" % (step, name, hex_floats(params[name])))

    for _, name, _ in TENSORS:
        state = opt.state[params[name]]
        # -1: torch keeps no step count for this optimizer (SGD).
        step = int(state["step"].item()) if "step" in state else -1
        arrays = [(k, v) for k, v in state.items() if k != "step" and torch.is_tensor(v)]
        body = " ".join("%s %s" % (k, hex_floats(v)) for k, v in arrays)
        lines.append(("state %s %d %d %s" % (name, step, len(arrays), body)).rstrip())
    return lines


def write_file(path, kind, cases):
    gen = torch.Generator().manual_seed(SEED + ("sgd", "adam", "adamw").index(kind))
    init = {name: torch.randn(shape, generator=gen) for _, name, shape in TENSORS}
    grads = []
    for step in range(STEPS):
        grads.append({name: None if step in ABSENT.get(name, ()) else
                      torch.randn(shape, generator=gen) for _, name, shape in TENSORS})

    capability = [line.split(":", 1)[1].strip() for line in torch.__config__.show().splitlines()
                  if "CPU capability" in line]
    lines = [
        "# torch %s (CPU capability %s), single-tensor (foreach=False) implementation."
        % (torch.__version__, capability[0] if capability else "unknown"),
        "# Generated by tools/gen_golden_torch_sgd_adam.py; do not edit.",
        "simdoptim-golden 1",
        "optimizer %s" % kind,
        "steps %d" % STEPS,
        "tensors %d" % len(TENSORS),
    ]
    for group, name, shape in TENSORS:
        lines.append("tensor %d %s %d %s" % (group, name, len(shape),
                                             " ".join(str(d) for d in shape)))
    for _, name, _ in TENSORS:
        lines.append("init %s %s" % (name, hex_floats(init[name])))
    for step in range(STEPS):
        for _, name, _ in TENSORS:
            g = grads[step][name]
            lines.append("grad %d %s %s" % (step, name, "none" if g is None else hex_floats(g)))

    lines.append("cases %d" % len(cases))
    for case_name, options in cases:
        lines.append("case %s" % case_name)
        lines.extend(option_line(i, o) for i, o in enumerate(options))
        lines.extend(run_case(kind, options, init, grads))

    path.write_text("\n".join(lines) + "\n")
    print("%s: %d cases, %d bytes" % (path, len(cases), path.stat().st_size))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    root = pathlib.Path(__file__).resolve().parent.parent
    parser.add_argument("--out", type=pathlib.Path, default=root / "tests" / "data" / "torch_sgd_adam")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)
    write_file(args.out / "sgd.golden", "sgd", list(sgd_cases()))
    write_file(args.out / "adam.golden", "adam", list(adam_cases(decoupled=False)))
    write_file(args.out / "adamw.golden", "adamw", list(adam_cases(decoupled=True)))


if __name__ == "__main__":
    main()
