#!/usr/bin/env bash
# The README's first command: set up, build, and run the main job, the digits trainer with its
# default config (tools/configs/digits.yaml). Extra arguments go to the trainer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/bootstrap.sh
cmake -S . -B build -G Ninja >/dev/null
cmake --build build --target train_digits
./build/tools/train_digits "$@"
