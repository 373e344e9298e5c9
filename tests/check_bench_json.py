#!/usr/bin/env python3
"""Runs simdoptim-bench on tiny workloads and checks the schema of its --json and --csv output
(not the timings). Standard library only: CI has python3 but neither torch nor matplotlib.

usage: check_bench_json.py SIMDOPTIM_BENCH DATA_DIR WORK_DIR
"""
import csv
import json
import os
import subprocess
import sys

CSV_HEADER = ("workload,numel,optimizer,config,isa,threads,bytes_per_element,subject,kernel,"
              "sample,steps_per_sample,ns_per_element,gb_per_second,huge_pages,cpu_model,"
              "library_version").split(",")
SERIES_KEYS = {"kernel", "steps_per_sample", "median_ns_per_element", "p25_ns_per_element",
               "p75_ns_per_element", "min_ns_per_element", "max_ns_per_element",
               "relative_spread", "elements_per_second", "gb_per_second",
               "samples_ns_per_element"}
RESULT_KEYS = {"workload", "optimizer", "config", "groups", "isa", "threads", "state_arrays",
               "bytes_per_element", "huge_pages", "simdoptim", "memory",
               "memory_bytes_per_element", "memory_pattern_exact", "scalar",
               "fraction_of_memory_limit", "speedup_vs_scalar", "rounds"}


def fail(message):
    print("FAIL:", message)
    sys.exit(1)


def expect(condition, message):
    if not condition:
        fail(message)


def check_keys(obj, keys, where):
    expect(isinstance(obj, dict), f"{where} is not an object")
    expect(set(obj) == keys, f"{where} keys {sorted(obj)} != {sorted(keys)}")


def run(binary, args, work, name):
    json_path = os.path.join(work, name + ".json")
    csv_path = os.path.join(work, name + ".csv")
    cmd = [binary, *args, "--reps", "3", "--scalar-reps", "2", "--warmup", "1",
           "--min-sample-ms", "0.05", "--json", json_path, "--csv", csv_path]
    print("$", " ".join(cmd))
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stdout, proc.stderr)
    expect(proc.returncode == 0, f"exit code {proc.returncode}")
    with open(json_path) as f:
        doc = json.load(f)
    with open(csv_path, newline="") as f:
        rows = list(csv.reader(f))
    return doc, rows, proc.stdout


def check_series(series, reps, where):
    check_keys(series, SERIES_KEYS, where)
    samples = series["samples_ns_per_element"]
    expect(len(samples) == reps, f"{where}: {len(samples)} samples, expected {reps}")
    expect(all(isinstance(s, (int, float)) and s > 0 for s in samples), f"{where}: bad sample")
    expect(series["min_ns_per_element"] <= series["median_ns_per_element"]
           <= series["max_ns_per_element"], f"{where}: min <= median <= max")
    expect(series["steps_per_sample"] >= 1, f"{where}: steps_per_sample")
    return len(samples)


def check_doc(doc, rows, expected_results, reps=3, scalar_reps=2):
    check_keys(doc, {"schema", "command_line", "machine", "settings", "results"}, "document")
    expect(doc["schema"] == "simdoptim-bench/1", "schema name")
    machine = doc["machine"]
    check_keys(machine, {"cpu_model", "logical_cpus", "transparent_hugepage", "isas",
                         "default_isa", "library_version", "compiler", "kernel", "load_average"},
               "machine")
    load = machine["load_average"]
    expect(load is None or (len(load) == 3 and all(x >= 0 for x in load)), "load_average")
    expect(machine["logical_cpus"] >= 1 and machine["isas"][0] == "scalar", "machine values")
    check_keys(doc["settings"], {"warmup", "reps", "scalar_reps", "rounds", "min_sample_ms",
                                 "scalar_reference"}, "settings")
    results = doc["results"]
    expect(len(results) == expected_results,
           f"{len(results)} results, expected {expected_results}")
    samples = 0
    for i, r in enumerate(results):
        where = f"results[{i}]"
        check_keys(r, RESULT_KEYS, where)
        check_keys(r["workload"],
                   {"name", "kind", "decayed_state", "source", "numel", "padded_numel", "tensors"},
                   where + ".workload")
        expect(r["isa"] in machine["isas"], where + ": isa not in machine.isas")
        expect(r["bytes_per_element"] == 12 + 8 * len(r["state_arrays"]), where + ": bytes")
        numel = sum(g["numel"] for g in r["groups"])
        expect(numel == r["workload"]["numel"], where + ": group numel")
        shapes_numel = 0
        for g in r["groups"]:
            for shape in g["shapes"]:
                n = 1
                for d in shape:
                    n *= d
                shapes_numel += n
            expect(g["padded_numel"] % 64 == 0, where + ": padded_numel")
        expect(shapes_numel == numel, where + ": shapes")
        expect(sum(g["padded_numel"] for g in r["groups"]) == r["workload"]["padded_numel"],
               where + ": padded")
        check_keys(r["huge_pages"], {"requested", "param_arena_fraction", "on"},
                   where + ".huge_pages")
        samples += check_series(r["simdoptim"], reps, where + ".simdoptim")
        samples += check_series(r["memory"], reps, where + ".memory")
        if r["isa"] == "scalar" or not doc["settings"]["scalar_reference"]:
            expect(r["scalar"] is None and r["speedup_vs_scalar"] is None, where + ": scalar")
        else:
            samples += check_series(r["scalar"], scalar_reps, where + ".scalar")
            expect(r["speedup_vs_scalar"] > 0, where + ": speedup")
        expect(r["fraction_of_memory_limit"] > 0, where + ": fraction")
        expect(r["rounds"] >= 1, where + ": rounds")
    expect(rows[0] == CSV_HEADER, f"CSV header {rows[0]}")
    expect(len(rows) - 1 == samples, f"CSV has {len(rows) - 1} rows, JSON {samples} samples")
    expect(all(len(row) == len(CSV_HEADER) for row in rows), "CSV row width")
    return results


def main():
    binary, data, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    spec = os.path.join(data, "bench", "tiny_spec.yaml")

    # Flat sizes and a spec, two optimizers, every instruction set, two thread counts.
    doc, rows, _ = run(binary, ["--numel", "1000,4K", "--spec", spec, "--opt", "adam,sgd",
                             "--momentum", "0.9", "--isa", "all", "--threads", "1,2"], work, "grid")
    isas = doc["machine"]["isas"]
    results = check_doc(doc, rows, 3 * 2 * len(isas) * 2)
    by_opt = {r["optimizer"]: r for r in results}
    expect(by_opt["adam"]["bytes_per_element"] == 28, "Adam moves 28 B/element")
    expect(by_opt["sgd"]["bytes_per_element"] == 20, "SGD-momentum moves 20 B/element")
    expect(by_opt["sgd"]["groups"][0]["options"]["momentum"] == 0.9, "--momentum applied")
    tiny = [r for r in results if r["workload"]["kind"] == "spec"][0]
    expect(tiny["workload"]["tensors"] == 4, "frozen parameter left out")

    # Plain SGD (12 B) and amsgrad (36 B, no exact memory kernel).
    doc, rows, _ = run(binary, ["--numel", "2K", "--opt", "sgd,adamw", "--amsgrad", "--threads", "1",
                             "--no-scalar"], work, "variants")
    results = check_doc(doc, rows, 2, scalar_reps=0)
    by_opt = {r["optimizer"]: r for r in results}
    expect(by_opt["sgd"]["bytes_per_element"] == 12, "plain SGD moves 12 B/element")
    expect(by_opt["adamw"]["bytes_per_element"] == 36, "amsgrad moves 36 B/element")
    expect(not by_opt["adamw"]["memory_pattern_exact"], "amsgrad pattern is approximated")

    # build_optimizer from a config: the recipe's decay and no-decay groups.
    doc, rows, _ = run(binary, ["--spec", spec, "--config",
                             os.path.join(data, "bench", "tiny_adamw.yaml"), "--threads", "1"],
                    work, "config")
    results = check_doc(doc, rows, 1)
    expect(results[0]["optimizer"] == "adamw" and len(results[0]["groups"]) == 2,
           "config builds two AdamW groups")
    expect(results[0]["config"].endswith("tiny_adamw.yaml"), "config path recorded")

    # Decayed state: each workload twice, normal then decayed, and the step ratio in the footer;
    # with torch's arithmetic too.
    for extra in ([], ["--keep-subnormal-state"]):
        doc, rows, out = run(binary, ["--numel", "4K", "--opt", "adam", "--decayed", "--threads",
                                      "1", "--no-scalar", *extra], work, "decayed")
        results = check_doc(doc, rows, 2, scalar_reps=0)
        expect([r["workload"]["decayed_state"] for r in results] == [False, True],
               "--decayed adds a decayed copy of the workload")
        expect(results[1]["workload"]["name"] == results[0]["workload"]["name"] + " decayed",
               "decayed workload name")
        expect("decayed state: flat 4K adam" in out, "decayed/normal ratio reported")
    print("OK")


if __name__ == "__main__":
    main()
