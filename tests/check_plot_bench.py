"""tools/plot_bench.py draws charts one can read at a glance: checked on the figures themselves
(ticks, labels, colours, legends, titles) for a synthetic size sweep and a default report.

Usage: check_plot_bench.py OUT_DIR
"""
import json
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
import plot_bench  # noqa: E402

SIZES = [1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24, 1 << 26]
FIGURES = {}


def keep(fig, path):  # plot_bench.save, but the figure stays open for the checks
    fig.canvas.draw()
    FIGURES[os.path.basename(path)] = fig
    fig.savefig(path, dpi=60)


def result(kind, name, numel, optimizer, threads, ns):
    series = {"median_ns_per_element": ns, "p25_ns_per_element": ns * 0.95,
              "p75_ns_per_element": ns * 1.05}
    momentum = 0.9 if optimizer == "sgd" else 0.0
    return {"workload": {"name": name, "kind": kind, "numel": numel},
            "optimizer": optimizer, "groups": [{"options": {"momentum": momentum}}],
            "isa": "avx512", "threads": threads, "bytes_per_element": 28,
            "memory_bytes_per_element": 28, "simdoptim": series,
            "memory": dict(series, median_ns_per_element=ns * 0.9)}


def document(results):
    return {"schema": plot_bench_schema(), "results": results,
            "machine": {"cpu_model": "Test CPU 9000", "logical_cpus": 2,
                        "load_average": [3.25, 3.0, 2.0]}}


def plot_bench_schema():
    from bench_results import SCHEMA
    return SCHEMA


def expect(condition, what):
    if not condition:
        sys.exit(f"check_plot_bench: {what}")


def legend_texts(fig):
    return [t.get_text() for legend in fig.legends + [ax.get_legend() for ax in fig.axes
                                                      if ax.get_legend()]
            for t in legend.get_texts()]


def legend_outside(fig):
    """Every legend lies right of every axes: it covers no data."""
    right = max(ax.get_window_extent().x1 for ax in fig.axes)
    legends = fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]
    return legends and all(lg.get_window_extent().x0 >= right - 1 for lg in legends)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    plot_bench.save = keep
    sweep = [result("flat", f"flat {n}", n, opt, t, 0.2 + 0.1 * i + 0.05 * (opt == "sgd"))
             for i, n in enumerate(SIZES) for opt in ("adam", "sgd") for t in (1, 2)]
    default = [result(kind, name, numel, opt, t, 0.5)
               for kind, name, numel in (("builtin", "resnet50", 25557032),
                                         ("flat", "flat 67108864", 1 << 26))
               for opt in ("adam", "adamw", "sgd") for t in (1, 2)]
    for name, results in (("sweep", sweep), ("default", default)):
        path = os.path.join(out, name + ".json")
        with open(path, "w") as f:
            json.dump(document(results), f)
        sys.argv = ["plot_bench.py", path, "--out-dir", out, "--prefix", name + "_",
                    "--note", "shared machine"]
        plot_bench.main()

    # The size chart: a tick at each measured size, labelled like the bench tool's sizes.
    fig = FIGURES["sweep_ns_per_element.png"]
    for ax in fig.axes:
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        expect(labels == ["64K", "256K", "1M", "4M", "16M", "64M"], f"x tick labels {labels}")
    ax = fig.axes[0]  # the panels share the y axis; the first one carries its labels
    low, high = ax.get_ylim()
    y_labels = [t.get_text() for t in ax.get_yticklabels()
                if t.get_text() and low <= float(t.get_text()) <= high]
    expect(len(y_labels) >= 3, f"y axis labels inside the data's range: {y_labels}")
    lines = [ln for ln in fig.axes[0].get_lines() if len(ln.get_xdata()) > 1]
    solid = {ln.get_color() for ln in lines if ln.get_linestyle() == "-"}
    expect(len(solid) == 2, f"one distinct colour per optimizer: {solid}")
    expect(legend_outside(fig), "the size chart's legend covers the plot")
    title = fig._suptitle.get_text()
    expect("Test CPU 9000" in title and "load average 3.2" in title and "shared machine" in title,
           f"title names machine, load and note: {title!r}")
    expect("sweep_workloads.png" not in FIGURES, "a pure size sweep drew a workloads chart")

    # The default report: categories, no line from one workload to another.
    expect("default_ns_per_element.png" not in FIGURES,
           "the default report was drawn as a size chart")
    fig = FIGURES["default_workloads.png"]
    ax = fig.axes[0]
    labels = [t.get_text().split("\n")[0] for t in ax.get_xticklabels()]
    expect(labels == ["resnet50", "flat 64M"], f"workload labels in size order: {labels}")
    expect(all(len(ln.get_xdata()) <= 2 and ln.get_ydata()[0] == ln.get_ydata()[-1]
               for ln in ax.get_lines() if ln.get_linestyle() != "None"),
           "a line joins two workloads")
    expect(legend_outside(fig), "the workloads chart's legend covers the plot")

    # The speedup chart: one colour per workload, in size order, legend outside.
    fig = FIGURES["sweep_speedup_vs_threads.png"]
    texts = legend_texts(fig)
    sizes = [t for t in texts if t.startswith("flat")]
    expect(sizes == ["flat 64K", "flat 256K", "flat 1M", "flat 4M", "flat 16M", "flat 64M"],
           f"workloads sorted by size: {sizes}")
    colors = {tuple(ln.get_color()) for ln in fig.axes[0].get_lines()
              if ln.get_linestyle() == "-" and ln.get_marker() == "o"}
    expect(len(colors) == len(SIZES), f"{len(colors)} colours for {len(SIZES)} workloads")
    expect(len(texts) <= len(SIZES) + 3, f"legend of {len(texts)} entries")
    expect(legend_outside(fig), "the speedup chart's legend covers the plot")
    print("plot_bench charts: all checks passed")


if __name__ == "__main__":
    main()
