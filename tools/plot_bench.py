#!/usr/bin/python3
"""PNG charts from one or more simdoptim-bench --json files.

  ns_per_element.png      median ns/element of each optimizer against workload size (log
                          scale), p25..p75 as error bars, with the same-run memory-only kernel
                          of the same access pattern drawn dashed: the roofline.
  speedup_vs_threads.png  speedup of each optimizer over its own 1-thread median against the
                          thread count, with the memory kernel's dashed and the ideal line.

Needs Debian's python3-matplotlib (a tool dependency, not a build one).

    /usr/bin/python3 tools/plot_bench.py bench.json [more.json ...] --out-dir docs/img
"""
import argparse
import collections
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import load_results, optimizer_label  # noqa: E402

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:  # pragma: no cover - message for the user
    sys.exit("plot_bench.py needs matplotlib (Debian: apt install python3-matplotlib)")


def load(paths):
    """(label, result) pairs; the label names the file when several are given."""
    out = []
    for path in paths:
        doc = load_results(path)
        m = doc["machine"]
        tag = f"{m['cpu_model']}, {os.path.basename(path)}" if len(paths) > 1 else ""
        for r in doc["results"]:
            out.append((tag, r))
    return out


def series_name(tag, r, with_threads=True):
    name = f"{optimizer_label(r)} {r['isa']}"
    if with_threads:
        name += f" {r['threads']}T"
    return name + (f" [{tag}]" if tag else "")


def plot_size(results, path, title):
    series = collections.defaultdict(list)
    for tag, r in results:
        series[series_name(tag, r)].append(r)
    if not any(len({r["workload"]["numel"] for r in rs}) > 1 for rs in series.values()):
        print("note: every series has a single size; the size chart shows points only",
              file=sys.stderr)
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for i, (name, rs) in enumerate(sorted(series.items())):
        rs.sort(key=lambda r: r["workload"]["numel"])
        color = f"C{i % 10}"
        x = [r["workload"]["numel"] for r in rs]
        med = [r["simdoptim"]["median_ns_per_element"] for r in rs]
        lo = [m - r["simdoptim"]["p25_ns_per_element"] for m, r in zip(med, rs)]
        hi = [r["simdoptim"]["p75_ns_per_element"] - m for m, r in zip(med, rs)]
        ax.errorbar(x, med, yerr=[lo, hi], color=color, marker="o", capsize=3, label=name)
        roof = [r["memory"]["median_ns_per_element"] * r["bytes_per_element"]
                / r["memory_bytes_per_element"] for r in rs]
        ax.plot(x, roof, color=color, linestyle="--", linewidth=1,
                label=f"{name}: memory kernel ({rs[0]['bytes_per_element']:g} B/el)")
        for r, y in zip(rs, med):
            if r["workload"]["kind"] != "flat":
                ax.annotate(r["workload"]["name"], (r["workload"]["numel"], y),
                            textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("elements per step")
    ax.set_ylabel("ns per element (median; lower is better)")
    ax.set_title(title or "simdoptim step time against size, with the same-run roofline")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print("wrote", path)


def plot_threads(results, path, title):
    groups = collections.defaultdict(dict)
    for tag, r in results:
        key = (r["workload"]["name"], series_name(tag, r, with_threads=False))
        groups[key][r["threads"]] = r
    groups = {k: v for k, v in groups.items() if 1 in v and len(v) > 1}
    if not groups:
        print("note: no series has 1 thread and more; speedup chart skipped", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(8, 5))
    max_threads = 1
    all_threads = set()
    for i, ((workload, name), by_threads) in enumerate(sorted(groups.items())):
        color = f"C{i % 10}"
        threads = sorted(by_threads)
        max_threads = max(max_threads, threads[-1])
        all_threads.update(threads)
        base = by_threads[1]
        for subject, style in (("simdoptim", "-"), ("memory", "--")):
            one = base[subject]["median_ns_per_element"]
            y = [one / by_threads[t][subject]["median_ns_per_element"] for t in threads]
            ax.plot(threads, y, color=color, linestyle=style, marker="o" if style == "-" else None,
                    label=f"{workload} {name}" + ("" if subject == "simdoptim" else " (memory)"))
    ax.plot([1, max_threads], [1, max_threads], color="gray", linestyle=":", label="ideal")
    ax.set_xticks(sorted(all_threads))
    ax.set_xlabel("threads")
    ax.set_ylabel("speedup over 1 thread (median)")
    ax.set_title(title or "simdoptim speedup against threads")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print("wrote", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="simdoptim-bench --json files")
    ap.add_argument("--out-dir", default=".", help="where the PNG files go (default: .)")
    ap.add_argument("--prefix", default="", help="prefix of the PNG file names")
    ap.add_argument("--title", default="", help="title of the size chart")
    args = ap.parse_args()
    results = load(args.json)
    os.makedirs(args.out_dir, exist_ok=True)
    plot_size(results, os.path.join(args.out_dir, args.prefix + "ns_per_element.png"), args.title)
    plot_threads(results, os.path.join(args.out_dir, args.prefix + "speedup_vs_threads.png"), "")


if __name__ == "__main__":
    main()
