#!/usr/bin/python3
"""PNG charts from one or more simdoptim-bench --json files.

  ns_per_element.png      flat workloads measured at several sizes: median ns/element against
                          the size (log-log, a tick at every measured size), p25..p75 as error
                          bars, the same-run memory-only kernel of the same access pattern
                          dashed in the same colour (the roofline); one panel per thread count.
  workloads.png           every workload as a category (ResNet-50, a spec, a single flat size:
                          the default report): bars of median ns/element per optimizer and
                          thread count, the memory kernel's time as a black mark on each bar and
                          the ratio (%roof) above it. Sizes are never joined by a line here.
  speedup_vs_threads.png  speedup over each series' own 1-thread median against the thread
                          count: one panel per optimizer, one colour per workload ordered by
                          size, the memory kernel dashed, the ideal line dotted.

Charts are drawn only when their data are there (a note on stderr says which were skipped).
Titles name the machine (CPU, logical CPUs) and its load average at the start of the run, as
recorded in the JSON; --note adds a line (e.g. "shared machine: other builds running").

Needs Debian's python3-matplotlib (a tool dependency, not a build one).

    /usr/bin/python3 tools/plot_bench.py bench.json [more.json ...] --out-dir docs/img
"""
import argparse
import collections
import math
import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_results import load_results, optimizer_label  # noqa: E402

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter
except ImportError:  # pragma: no cover - message for the user
    sys.exit("plot_bench.py needs matplotlib (Debian: apt install python3-matplotlib)")

DPI = 120


def size_label(n):
    """64K, 1M, 64M, 2^26 + 3: the bench tool's binary multiples, exact."""
    for unit, shift in (("G", 30), ("M", 20), ("K", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift}{unit}"
    return f"{n:,}"


def workload_label(r):
    w = r["workload"]
    return f"flat {size_label(w['numel'])}" if w["kind"] == "flat" else w["name"]


def machine_line(doc):
    m = doc["machine"]
    load = m.get("load_average")
    load_text = (f"load average {load[0]:.1f} at start" if load
                 else "load not recorded")
    return f"{m['cpu_model']}, {m['logical_cpus']} logical CPUs, {load_text}"


def load(paths):
    """(tag, result) pairs and the machine lines; the tag names the file when several are
    given, so that series from different runs stay apart."""
    out, machines = [], []
    for path in paths:
        doc = load_results(path)
        tag = os.path.splitext(os.path.basename(path))[0] if len(paths) > 1 else ""
        line = machine_line(doc)
        machines.append(f"{tag}: {line}" if tag else line)
        for r in doc["results"]:
            out.append((tag, r))
    return out, machines


def title_of(main, machines, note):
    lines = [main] + machines + ([note] if note else [])
    return "\n".join(lines)


def series_name(tag, r):
    name = f"{optimizer_label(r)} ({r['isa']})"
    return name + (f" [{tag}]" if tag else "")


def roof_ns(r):
    """The memory kernel's time scaled to the optimizer's bytes per element."""
    return (r["memory"]["median_ns_per_element"] * r["bytes_per_element"]
            / r["memory_bytes_per_element"])


def decimal(value, _pos=None):
    """Log-axis tick labels as plain decimals: 0.2, 0.5, 1, 2, 10."""
    return f"{value:g}"


def log_y_axis(ax):
    """Log y axis with labelled ticks inside every decade (1, 2, 5 of each; every digit when the
    data span little more than a decade), not only at the powers of ten. Call after plotting."""
    ax.set_yscale("log")
    lo, hi = ax.get_ylim()
    narrow = math.log10(hi / lo) < 1.3
    subs = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0) if narrow else (1.0, 2.0, 5.0)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(decimal))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=tuple(
        k / 10 for k in range(10, 100, 5) if k / 10 not in subs)))
    ax.yaxis.set_minor_formatter(NullFormatter())


def save(fig, path):
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    print("wrote", path)


def flat_series(results):
    """{(threads, series name): [results]} of the flat workloads measured at 2 sizes or more."""
    series = collections.defaultdict(list)
    for tag, r in results:
        if r["workload"]["kind"] == "flat":
            series[(r["threads"], series_name(tag, r))].append(r)
    return {k: v for k, v in series.items() if len({r["workload"]["numel"] for r in v}) > 1}


def plot_size(results, path, title):
    """ns/element against size for the flat workloads measured at two sizes or more."""
    series = flat_series(results)
    if not series:
        print("note: no flat workload at two sizes or more; ns_per_element.png skipped",
              file=sys.stderr)
        return False
    threads = sorted({t for t, _ in series})
    names = sorted({n for _, n in series})
    colors = {n: f"C{i % 10}" for i, n in enumerate(names)}
    fig, axes = plt.subplots(1, len(threads), figsize=(5.2 * len(threads) + 1.5, 4.8),
                             sharey=True, squeeze=False)
    sizes = sorted({r["workload"]["numel"] for rs in series.values() for r in rs})
    for ax, t in zip(axes[0], threads):
        for name in names:
            rs = sorted(series.get((t, name), []), key=lambda r: r["workload"]["numel"])
            if not rs:
                continue
            x = [r["workload"]["numel"] for r in rs]
            med = [r["simdoptim"]["median_ns_per_element"] for r in rs]
            lo = [m - r["simdoptim"]["p25_ns_per_element"] for m, r in zip(med, rs)]
            hi = [r["simdoptim"]["p75_ns_per_element"] - m for m, r in zip(med, rs)]
            ax.errorbar(x, med, yerr=[lo, hi], color=colors[name], marker="o", capsize=3)
            ax.plot(x, [roof_ns(r) for r in rs], color=colors[name], linestyle="--",
                    linewidth=1)
        ax.set_xscale("log", base=2)
        ax.xaxis.set_major_locator(FixedLocator(sizes))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: size_label(int(round(v)))))
        ax.xaxis.set_minor_locator(FixedLocator([]))
        ax.set_yscale("log")
        ax.set_xlabel("elements per step (one flat tensor)")
        ax.set_title(f"{t} thread{'s' if t > 1 else ''}")
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[0]:  # once every panel is drawn: the shared limits are final
        log_y_axis(ax)
    axes[0][0].set_ylabel("ns per element (median, p25-p75; lower is better)")
    handles = [Line2D([], [], color=colors[n], marker="o", label=n) for n in names]
    handles.append(Line2D([], [], color="gray", linestyle="--",
                          label="dashed: memory-only kernel,\nsame access pattern, same run"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
               frameon=False)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path)
    return True


def plot_workloads(results, path, title):
    """One group of bars per workload (ordered by size), one bar per optimizer and threads."""
    swept = {id(r) for rs in flat_series(results).values() for r in rs}
    cells = {}
    for tag, r in results:
        if id(r) not in swept:  # a size sweep is ns_per_element.png's
            cells[(workload_label(r), r["workload"]["numel"], series_name(tag, r),
                   r["threads"])] = r
    if not cells:
        print("note: every workload is part of a size sweep; workloads.png skipped",
              file=sys.stderr)
        return False
    workloads = sorted({(numel, w) for w, numel, _, _ in cells})
    bars = sorted({(n, t) for _, _, n, t in cells})
    names = sorted({n for n, _ in bars})
    colors = {n: f"C{i % 10}" for i, n in enumerate(names)}
    width = 0.8 / len(bars)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 + 0.6 * len(bars) * len(workloads)), 4.8))
    for gi, (numel, w) in enumerate(workloads):
        for bi, (name, t) in enumerate(bars):
            r = cells.get((w, numel, name, t))
            if r is None:
                continue
            x = gi - 0.4 + width * (bi + 0.5)
            s = r["simdoptim"]
            med = s["median_ns_per_element"]
            ax.bar(x, med, width * 0.9, color=colors[name],
                   alpha=1.0 if t == 1 else 0.55, hatch=None if t == 1 else "//",
                   edgecolor="white", linewidth=0)
            ax.errorbar(x, med, yerr=[[med - s["p25_ns_per_element"]],
                                      [s["p75_ns_per_element"] - med]],
                        color="black", capsize=2, linewidth=0.8)
            roof = roof_ns(r)
            ax.plot([x - width * 0.45, x + width * 0.45], [roof, roof], color="black",
                    linewidth=2)
            ax.annotate(f"{roof / med:.0%}", (x, max(s["p75_ns_per_element"], roof)),
                        textcoords="offset points", xytext=(0, 3), ha="center", fontsize=7)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels([f"{w}\n({size_label(n)} elements)" for n, w in workloads])
    ax.set_xlim(-0.6, len(workloads) - 0.4)
    ax.set_ylabel("ns per element (median, p25-p75; lower is better)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
    ax.grid(True, axis="y", alpha=0.3)
    handles = [Line2D([], [], color=colors[n], linewidth=8, label=n) for n in names]
    thread_counts = sorted({t for _, t in bars})
    for t in thread_counts:
        handles.append(matplotlib.patches.Patch(
            facecolor="gray", alpha=1.0 if t == 1 else 0.55, hatch=None if t == 1 else "//",
            label=f"{t} thread{'s' if t > 1 else ''}"))
    handles.append(Line2D([], [], color="black", linewidth=2,
                          label="memory-only kernel, same run\n(% above a bar: its time / ours)"))
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
              frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    save(fig, path)
    return True


def plot_threads(results, path, title):
    """Speedup over 1 thread: one panel per optimizer, one colour per workload by size."""
    groups = collections.defaultdict(dict)
    for tag, r in results:
        key = (series_name(tag, r), r["workload"]["numel"], workload_label(r))
        groups[key][r["threads"]] = r
    groups = {k: v for k, v in groups.items() if 1 in v and len(v) > 1}
    if not groups:
        print("note: no series has 1 thread and more; speedup_vs_threads.png skipped",
              file=sys.stderr)
        return False
    names = sorted({k[0] for k in groups})
    workloads = sorted({(k[1], k[2]) for k in groups})
    cmap = plt.get_cmap("viridis")
    colors = {w: cmap(i / max(1, len(workloads) - 1) * 0.9) for i, w in enumerate(workloads)}
    max_threads = max(t for v in groups.values() for t in v)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names) + 2.0, 4.4),
                             sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names):
        for w in workloads:
            by_threads = groups.get((name, w[0], w[1]))
            if not by_threads:
                continue
            threads = sorted(by_threads)
            for subject, style, marker in (("simdoptim", "-", "o"), ("memory", "--", None)):
                one = by_threads[1][subject]["median_ns_per_element"]
                y = [one / by_threads[t][subject]["median_ns_per_element"] for t in threads]
                ax.plot(threads, y, color=colors[w], linestyle=style, marker=marker,
                        linewidth=1.5 if style == "-" else 1)
        ax.plot([1, max_threads], [1, max_threads], color="gray", linestyle=":")
        ax.set_xticks(range(1, max_threads + 1))
        ax.set_xlabel("threads")
        ax.set_title(name, fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("speedup over 1 thread (median)")
    handles = [Line2D([], [], color=colors[w], marker="o", label=w[1]) for w in workloads]
    handles.append(Line2D([], [], color="gray", linestyle="--",
                          label="dashed: memory-only kernel"))
    handles.append(Line2D([], [], color="gray", linestyle=":", label="ideal (linear)"))
    fig.legend(handles=handles, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=9,
               frameon=False, title="workload")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save(fig, path)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="simdoptim-bench --json files")
    ap.add_argument("--out-dir", default=".", help="where the PNG files go (default: .)")
    ap.add_argument("--prefix", default="", help="prefix of the PNG file names")
    ap.add_argument("--title", default="", help="first title line of every chart")
    ap.add_argument("--note", default="",
                    help="a last title line, e.g. how busy the machine was")
    args = ap.parse_args()
    results, machines = load(args.json)
    os.makedirs(args.out_dir, exist_ok=True)

    def out(name):
        return os.path.join(args.out_dir, args.prefix + name)

    def title(default):
        return title_of(args.title or default, machines, args.note)

    drawn = [
        plot_size(results, out("ns_per_element.png"),
                  title("simdoptim step time against size, with the same-run roofline")),
        plot_workloads(results, out("workloads.png"),
                       title("simdoptim step time per workload, against the same-run roofline")),
        plot_threads(results, out("speedup_vs_threads.png"),
                     title("simdoptim speedup against threads")),
    ]
    if not any(drawn):
        sys.exit("no chart could be drawn from these results")


if __name__ == "__main__":
    main()
