#!/usr/bin/env bash
# The README's first command: set up, build, and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target simdoptim-demo
./build/tools/simdoptim-demo "$@"
