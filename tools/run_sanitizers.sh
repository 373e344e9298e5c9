#!/usr/bin/env bash
# Builds the library and tests under sanitizers and runs them (issue 6):
#   build-asan: AddressSanitizer + UndefinedBehaviorSanitizer, the whole CTest suite
#   build-tsan: ThreadSanitizer, the tests that run work on several threads
# Usage: tools/run_sanitizers.sh [asan|tsan|all] (default all). Exit code != 0 on any finding.
# Debug-free -O1 builds with g++; benchmarks and tools that tests do not use are skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}
jobs=${SIMDOPTIM_JOBS:-2}
common=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
        -DSIMDOPTIM_BUILD_BENCHMARKS=OFF -DSIMDOPTIM_WERROR=OFF)
# No -Werror: GCC 12 at -O1 with sanitizers reports false -Wuninitialized inside avx512fintrin.h
# (_mm512_undefined_ps); the default build keeps warnings as errors.

run_asan() {
  cmake -S . -B build-asan "${common[@]}" -DSIMDOPTIM_SANITIZE=address,undefined >/dev/null
  cmake --build build-asan -j "$jobs"
  # detect_leaks: oneTBB's worker threads keep a few allocations until exit; they are
  # reported as leaks only at exit, and our own leaks would be too, so keep it on.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"
}

run_tsan() {
  cmake -S . -B build-tsan "${common[@]}" -DSIMDOPTIM_SANITIZE=thread >/dev/null
  cmake --build build-tsan -j "$jobs"
  # The tests whose work is split across oneTBB threads (every instruction set, 1..4 threads).
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tools/tsan.supp" \
    ctest --test-dir build-tsan --output-on-failure -j "$jobs" \
      -R '^(test_kernels|test_kernels_more|test_reductions|test_optimizer_api|test_clip_grad|test_checkpoint_resume)$'
}

case "$which" in
  asan) run_asan ;;
  tsan) run_tsan ;;
  all) run_asan; run_tsan ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
