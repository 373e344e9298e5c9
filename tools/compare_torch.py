#!/usr/bin/python3
"""Head-to-head with PyTorch: times torch.optim on the workloads of a simdoptim-bench --json file
and prints the speedup of simdoptim over torch's for-loop and foreach implementations.

For every result of the JSON file (one simdoptim row per workload, optimizer, option set and
thread count; when several instruction sets were run, the machine's default one), this builds
the same tensors (the group shapes recorded in the JSON), the same torch optimizer with the same
group options, sets torch.set_num_threads to the same count, and times optimizer.step() with
gradients present, as simdoptim-bench does: warm-up steps, then the median of several samples.

Needs Debian's python3-torch (torch 1.13); a tool dependency, not a build one.

    build/tools/simdoptim-bench --json bench.json
    /usr/bin/python3 tools/compare_torch.py bench.json [--markdown] [--out torch.json]
"""
import argparse
import inspect
import json
import os
import statistics
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import load_results, optimizer_label  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - message for the user
    sys.exit("compare_torch.py needs PyTorch (Debian: apt install python3-torch)")

# simdoptim optimizer name -> torch class. Group option names are torch's keyword names except
# beta1/beta2 (torch's `betas` tuple); options torch's constructor does not take are dropped.
TORCH_OPTIMIZERS = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
}
FLAG_OPTIONS = {"amsgrad", "maximize", "nesterov", "centered"}


def torch_group_options(cls, options):
    accepted = set(inspect.signature(cls.__init__).parameters)
    out = {}
    for key, value in options.items():
        if key in ("beta1", "beta2") and "betas" in accepted:
            out["betas"] = (options["beta1"], options["beta2"])
        elif key in accepted:
            out[key] = bool(value) if key in FLAG_OPTIONS else value
    return out


def make_optimizer(result, variant):
    cls = TORCH_OPTIMIZERS[result["optimizer"]]
    groups = []
    for g in result["groups"]:
        params = []
        for shape in g["shapes"]:
            p = torch.full(shape, 1e-2, dtype=torch.float32)
            p.grad = torch.full(shape, 1e-3, dtype=torch.float32)
            params.append(p)
        groups.append({"params": params, **torch_group_options(cls, g["options"])})
    kwargs = {}
    if "foreach" in inspect.signature(cls.__init__).parameters:
        kwargs["foreach"] = variant == "foreach"
    elif variant == "foreach":
        return None
    # The first group's options double as defaults (torch requires lr for SGD).
    defaults = {k: v for k, v in groups[0].items() if k != "params"}
    return cls(groups, **{**defaults, **kwargs})


def time_torch(result, variant, warmup, reps, min_sample_s):
    opt = make_optimizer(result, variant)
    if opt is None:
        return None
    numel = result["workload"]["numel"]
    with torch.no_grad():
        for _ in range(max(warmup, 1)):
            opt.step()
        start = time.perf_counter()
        opt.step()
        one = time.perf_counter() - start
        steps = max(1, int(min_sample_s / max(one, 1e-9) + 0.999))
        samples = []
        for _ in range(reps):
            start = time.perf_counter()
            for _ in range(steps):
                opt.step()
            samples.append((time.perf_counter() - start) * 1e9 / (steps * numel))
    return samples


def pick_rows(doc):
    """One simdoptim row per (workload, optimizer, options, threads): the default ISA's."""
    default_isa = doc["machine"]["default_isa"]
    rows = {}
    for r in doc["results"]:
        if r["optimizer"] not in TORCH_OPTIMIZERS:
            print(f"note: no torch equivalent for {r['optimizer']}, skipped", file=sys.stderr)
            continue
        key = (r["workload"]["name"], r["optimizer"],
               json.dumps([g["options"] for g in r["groups"]], sort_keys=True), r["threads"])
        if key not in rows or r["isa"] == default_isa:
            rows[key] = r
    return list(rows.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", help="simdoptim-bench --json output")
    ap.add_argument("--variants", default="for-loop,foreach",
                    help="torch implementations to time (default: for-loop,foreach)")
    ap.add_argument("--warmup", type=int, default=2, help="untimed torch steps (default 2)")
    ap.add_argument("--reps", type=int, default=5, help="timed torch samples (default 5)")
    ap.add_argument("--min-sample-ms", type=float, default=2.0,
                    help="each sample runs enough steps to last this long (default 2)")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--out", help="write the torch timings and speedups as JSON")
    args = ap.parse_args()

    doc = load_results(args.json)
    variants = [v for v in args.variants.split(",") if v]
    for v in variants:
        if v not in ("for-loop", "foreach"):
            sys.exit(f"compare_torch.py: unknown variant '{v}' (valid: for-loop, foreach)")

    table = []
    for r in pick_rows(doc):
        torch.set_num_threads(r["threads"])
        ours = r["simdoptim"]["median_ns_per_element"]
        row = {"workload": r["workload"]["name"], "numel": r["workload"]["numel"],
               "optimizer": optimizer_label(r), "isa": r["isa"], "threads": r["threads"],
               "simdoptim_ns_per_element": ours, "torch": {}}
        for v in variants:
            print(f"timing torch {v} {row['optimizer']} on {row['workload']}, "
                  f"{row['threads']} thread(s)...", file=sys.stderr)
            samples = time_torch(r, v, args.warmup, args.reps, args.min_sample_ms / 1e3)
            if samples:
                med = statistics.median(samples)
                row["torch"][v] = {"median_ns_per_element": med, "samples_ns_per_element": samples,
                                   "speedup": med / ours}
        best = min((t["median_ns_per_element"] for t in row["torch"].values()), default=None)
        row["speedup_vs_faster_torch"] = best / ours if best else None
        table.append(row)

    print_table(table, variants, doc, args.markdown)
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"schema": "simdoptim-compare-torch/1", "torch_version": torch.__version__,
                       "simdoptim_json": args.json, "machine": doc["machine"], "rows": table},
                      f, indent=2)


def print_table(table, variants, doc, markdown):
    m = doc["machine"]
    print(f"simdoptim {m['library_version']} vs torch {torch.__version__} | {m['cpu_model']} | "
          "ns per element, medians")
    head = ["workload", "optimizer", "thr", "simdoptim"] + [f"torch {v}" for v in variants] + \
           [f"x {v}" for v in variants] + ["x faster torch"]
    rows = []
    for r in table:
        cells = [r["workload"], r["optimizer"], str(r["threads"]),
                 f"{r['simdoptim_ns_per_element']:.3f}"]
        cells += [f"{r['torch'][v]['median_ns_per_element']:.3f}" if v in r["torch"] else "-"
                  for v in variants]
        cells += [f"{r['torch'][v]['speedup']:.1f}x" if v in r["torch"] else "-"
                  for v in variants]
        best = r["speedup_vs_faster_torch"]
        cells.append(f"**{best:.1f}x**" if markdown and best else
                     (f"{best:.1f}x" if best else "-"))
        rows.append(cells)
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join(" --- " for _ in head) + "|")
        for cells in rows:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(h), *(len(c[i]) for c in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for cells in rows:
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)))


if __name__ == "__main__":
    main()


# ---- The drop-in on a real training step --------------------------------------------
# Self-contained: times a whole torch training step (forward + backward + optimizer.step +
# zero_grad) of a small MLP with torch.optim.AdamW (for-loop and foreach) and with
# simdoptim.torch.AdamW, from the same seed, and prints the medians and speedups. Run:
#   PYTHONPATH=build/python /usr/bin/python3 -c \
#     'import sys; sys.path.insert(0, "tools"); import compare_torch as c; c.dropin_speedup()'
def dropin_speedup(widths=(784, 2048, 2048, 10), batch=32, steps=30, warmup=5, threads=None):
    """Returns {variant: median seconds per training step} and prints the speedups."""
    import copy as _copy

    import simdoptim.torch as simd_torch

    if threads is not None:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    layers = []
    for a, b in zip(widths[:-1], widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    base = torch.nn.Sequential(*layers[:-1])
    x = torch.randn(batch, widths[0])
    y = torch.randint(0, widths[-1], (batch,))
    makers = {
        "torch for-loop": lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=False),
        "torch foreach": lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=True),
        "simdoptim drop-in": lambda p: simd_torch.AdamW(p, lr=1e-3),
    }
    medians = {}
    for name, make in makers.items():
        model = _copy.deepcopy(base)
        opt = make(model.parameters())
        samples = []
        for k in range(warmup + steps):
            t0 = time.perf_counter()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if k >= warmup:
                samples.append(time.perf_counter() - t0)
        medians[name] = statistics.median(samples)
    numel = sum(p.numel() for p in base.parameters())
    print(f"training step of an MLP {list(widths)} ({numel / 1e6:.1f}M params, batch {batch}, "
          f"{torch.get_num_threads()} threads), median of {steps}:")
    ours = medians["simdoptim drop-in"]
    for name, seconds in medians.items():
        print(f"  {name:18s} {seconds * 1e3:8.2f} ms  (simdoptim {seconds / ours:.2f}x faster)")
    return medians
