#!/usr/bin/env bash
# Installs the build in $1 into a scratch prefix, then configures, builds and runs the consumer;
# any further arguments go to the consumer's configure (compiler, sanitizer link flags).
set -euo pipefail
build=$1 scratch=$2
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" >/dev/null
cmake -S "$here" -B "$scratch/build" -G Ninja -DCMAKE_PREFIX_PATH="$scratch/prefix" \
  "${@:3}" >/dev/null
cmake --build "$scratch/build" >/dev/null
"$scratch/build/consumer"
