#!/usr/bin/env bash
# `pip install --no-build-isolation SOURCE` into a venv made from PYTHON (with its system site
# packages, so that setuptools, numpy and torch come from Debian): pyproject.toml and setup.py
# must build the module with CMake offline, and the venv must import it with no PYTHONPATH.
# Usage: test_pip_install.sh PYTHON SOURCE_DIR
set -euo pipefail
python=$1 source=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv --system-site-packages "$tmp/venv"
SIMDOPTIM_PIP_BUILD_DIR="$tmp/build" "$tmp/venv/bin/python" -m pip install --no-build-isolation \
  --no-deps --no-index --disable-pip-version-check "$source"
cd "$tmp"
env -u PYTHONPATH "$tmp/venv/bin/python" -B - "$tmp/venv" <<'PY'
import os, sys
import torch
import simdoptim
import simdoptim.torch

prefix = os.path.realpath(sys.argv[1])
where = os.path.realpath(simdoptim.__file__)
assert where.startswith(prefix + os.sep), f"imported {where}, not from {prefix}"
w = torch.nn.Parameter(torch.ones(3))
opt = simdoptim.torch.SGD([w], lr=0.5)
w.sum().backward()
opt.step()
assert torch.allclose(w, torch.full((3,), 0.5)), w
print("imported", where, "version", simdoptim.__version__)
PY
