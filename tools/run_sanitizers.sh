#!/usr/bin/env bash
# Builds the library and tests under sanitizers and runs them, with the presets of
# CMakePresets.json (the one place their flags live):
#   build-asan: AddressSanitizer + UndefinedBehaviorSanitizer, the whole CTest suite
#   build-tsan: ThreadSanitizer, the tests labelled "threads" (tests/CMakeLists.txt)
# Usage: tools/run_sanitizers.sh [asan|tsan|all] (default all). Exit code != 0 on any finding.
# SIMDOPTIM_JOBS=N sets build and test parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
jobs=${SIMDOPTIM_JOBS:-2}

run() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$jobs"
  ctest --preset "$1" -j "$jobs"
}

case "$which" in
  asan | tsan) run "$which" ;;
  all) run asan; run tsan ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
