#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan; the "fuzz" preset of CMakePresets.json)
# in build-fuzz and fuzzes each for SECONDS seconds (default 60), starting from the kept inputs
# in tests/fuzz/<target>/. A crash leaves its input in build-fuzz/artifacts/<target>/ and fails
# the script: copy it into tests/fuzz/<target>/ (the CTest test fuzz_replay_<target> replays
# that folder) and fix it. Each run's whole output is in build-fuzz/logs/<target>.log.
# Needs clang and libclang-rt-14-dev (tools/bootstrap.sh). Usage: tools/run_fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
jobs=${SIMDOPTIM_JOBS:-2}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$jobs"
mkdir -p build-fuzz/logs
status=0
for target in checkpoint config; do
  corpus=build-fuzz/corpus/$target
  artifacts=build-fuzz/artifacts/$target
  log=build-fuzz/logs/$target.log
  mkdir -p "$corpus" "$artifacts"
  seeds=(tests/fuzz/$target)
  [[ $target == config ]] && seeds+=(tools/configs tests/data/configs)
  echo "fuzz_$target: ${seconds}s"
  if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    build-fuzz/tests/fuzz_$target "$corpus" "${seeds[@]}" -max_total_time="$seconds" \
      -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >"$log" 2>&1; then
    grep -E "^Done|^stat::(new_units|peak_rss)" "$log"
  else
    status=1
    echo "fuzz_$target FAILED; new inputs in $artifacts/:" >&2
    ls "$artifacts" >&2
    grep -m1 -A60 -E "^==[0-9]+==(ERROR|WARNING)|runtime error|deadly signal|Timeout|out-of-memory" \
      "$log" >&2 || tail -n 60 "$log" >&2
  fi
done
exit $status
