#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz and fuzzes each for
# SECONDS seconds (default 60), starting from the kept inputs in tests/fuzz/<target>/.
# A crash leaves its input in build-fuzz/artifacts/<target>/ and fails the script: copy it into
# tests/fuzz/<target>/ (the CTest test fuzz_replay_<target> replays that folder) and fix it.
# Needs clang and libclang-rt-14-dev (tools/bootstrap.sh). Usage: tools/run_fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${SIMDOPTIM_JOBS:-2}
CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSIMDOPTIM_FUZZ=ON -DSIMDOPTIM_SANITIZE=address,undefined -DSIMDOPTIM_BUILD_BENCHMARKS=OFF \
  -DSIMDOPTIM_BUILD_TOOLS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_checkpoint fuzz_config
status=0
for target in checkpoint config; do
  corpus=build-fuzz/corpus/$target
  artifacts=build-fuzz/artifacts/$target
  mkdir -p "$corpus" "$artifacts"
  seeds=(tests/fuzz/$target)
  [[ $target == config ]] && seeds+=(tools/configs tests/data/configs)
  echo "fuzz_$target: ${seconds}s"
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build-fuzz/tests/fuzz_$target "$corpus" "${seeds[@]}" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" 2>&1 | tail -n 15 || status=1
done
exit $status
