#!/usr/bin/env bash
# The README's first command: set up, build, and run the main job, the digits trainer with its
# default config (tools/configs/digits.yaml). Extra arguments go to the trainer.
set -euo pipefail
cd "$(dirname "$0")/.."
# Only what the trainer needs: no tests, benchmarks or Python module (tools/run_tests.sh turns
# them back on in the same build folder).
bash tools/bootstrap.sh demo
cmake -S . -B build -G Ninja -DSIMDOPTIM_BUILD_TESTS=OFF -DSIMDOPTIM_BUILD_BENCHMARKS=OFF \
  -DSIMDOPTIM_PYTHON=OFF >/dev/null
cmake --build build --target train_digits
./build/tools/train_digits "$@"
