"""Shared by plot_bench.py and compare_torch.py: reading simdoptim-bench --json files."""
import json
import sys

SCHEMA = "simdoptim-bench/1"


def load_results(path):
    """The parsed document; exits with a message when it is not a simdoptim-bench file."""
    with open(path) as f:
        doc = json.load(f)
    if doc.get("schema") != SCHEMA:
        sys.exit(f"{path} is not a {SCHEMA} JSON file (write one with simdoptim-bench --json)")
    return doc


def optimizer_label(result):
    """"sgd m0.9 nesterov", "adamw amsgrad": the optimizer and the options that set it apart."""
    o = result["groups"][0]["options"]
    name = result["optimizer"]
    if o.get("momentum"):
        name += f" m{o['momentum']:g}"
    if o.get("nesterov"):
        name += " nesterov"
    if o.get("amsgrad"):
        name += " amsgrad"
    return name
