#!/usr/bin/env bash
# `cmake --install` of this build into a venv made from the interpreter the module was built
# for: `import simdoptim` and `simdoptim.torch` must then work from outside the source tree with
# no PYTHONPATH (the package lands in the folder that interpreter searches under the prefix).
# Usage: test_cmake_install.sh PYTHON BUILD_DIR
set -euo pipefail
python=$1 build=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m venv --system-site-packages --without-pip "$tmp/venv"
cmake --install "$build" --prefix "$tmp/venv" --component python
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
opt = simdoptim.torch.AdamW([w], lr=0.1)
w.sum().backward()
opt.step()
assert torch.all(w < 1), w
print("imported", where, "version", simdoptim.__version__)
PY
