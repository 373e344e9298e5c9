#!/usr/bin/env bash
# The README's second command (and CI's): set up, build everything with warnings as errors, and
# run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh tests
# Everything on explicitly: tools/run_demo.sh may have configured the same folder without them.
cmake -S . -B build -G Ninja -DSIMDOPTIM_WERROR=ON -DSIMDOPTIM_BUILD_TESTS=ON \
  -DSIMDOPTIM_BUILD_BENCHMARKS=ON -DSIMDOPTIM_PYTHON=ON >/dev/null
cmake --build build
ctest --test-dir build --output-on-failure
