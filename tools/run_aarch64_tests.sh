#!/usr/bin/env bash
# The NEON build, tested: cross-compiles for aarch64 with Debian's g++-aarch64-linux-gnu (the
# "aarch64" presets of CMakePresets.json, build-aarch64/) and runs the test suite under
# qemu-user on one thread, so that NEON's results are checked against the scalar reference's
# bits like every x86 instruction set's.
#
# Covered under emulation: every Catch2 test (kernels, element operations, torch goldens,
# checkpoints, schedulers, config), the C API tests, the fuzz corpus replays and simdoptim-info
# (run-time detection, SIMDOPTIM_ISA=neon); the NEON kernels' object code is checked for weak
# symbols. Not covered: more than one thread (oneTBB's workers hang under qemu-user, so the
# tests cap their thread counts with SIMDOPTIM_TEST_MAX_THREADS=1; thread-count invariance is
# proven by the native x86 runs), the benchmarks and simdoptim-bench, the Python module, the
# demo trainer and the find_package consumer (none of them has NEON-specific code), and
# sanitizers. Speed is never measured under emulation.
#
# SIMDOPTIM_JOBS=N sets build and test parallelism (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${SIMDOPTIM_JOBS:-2}

bash tools/bootstrap_aarch64.sh
cmake --preset aarch64 >/dev/null
cmake --build --preset aarch64 -j "$jobs"

echo "simdoptim-info under qemu-user:"
info=(qemu-aarch64 -L /usr/aarch64-linux-gnu build-aarch64/tools/simdoptim-info)
env -u SIMDOPTIM_ISA SIMDOPTIM_NUM_THREADS=1 "${info[@]}"
echo "with SIMDOPTIM_ISA=neon:"
SIMDOPTIM_ISA=neon SIMDOPTIM_NUM_THREADS=1 "${info[@]}"

ctest --preset aarch64 -j "$jobs"

# The suite must have run NEON (SIMDOPTIM_EXPECT_ISAS makes test_elementwise_kernels fail otherwise); say so.
grep -h "^instruction sets under test:" build-aarch64/Testing/Temporary/LastTest.log
