#!/usr/bin/env bash
# Installs with apt what a job needs, only when something is missing (fast when all is there).
# Usage: tools/bootstrap.sh [demo|tests|quality]   (default: tests)
#   demo     what tools/run_demo.sh needs: the compiler, CMake and the library's dependencies
#   tests    everything tools/run_tests.sh builds and runs (a superset of demo)
#   quality  tests plus what the quality scripts want (tools/quality_*.py): an optimized BLAS
#            for torch, whose Debian build otherwise runs on the reference BLAS (about 10x
#            slower on the character-level model). The system's libblas.so.3 stays the
#            reference one, which the tests' torch figures were recorded with (an LBFGS closure
#            count changes with OpenBLAS); tools/quality_charlm.py loads OpenBLAS itself.
set -euo pipefail
job=${1:-tests}
demo_packages=(
  cmake ninja-build g++ libxsimd-dev libtbb-dev libyaml-cpp-dev
  libcli11-dev nlohmann-json3-dev       # the tools' argument parser and JSON (tools/ holds the
                                        # trainer, so they must configure)
)
test_packages=(
  catch2 libbenchmark-dev               # the tests and the benchmark suites
  clang libclang-rt-14-dev              # libFuzzer targets (tools/run_fuzz.sh)
  pybind11-dev python3-dev              # the Python module
  python3-torch python3-numpy           # the Python module's tests against torch.optim
  python3-venv python3-pip              # the install tests: a venv, pip install .
  python3-setuptools python3-wheel      # pyproject.toml's build backend, offline
  python3-matplotlib                    # tools/plot_bench.py and its test
  libopenmpi-dev openmpi-bin            # the sharded optimizer, its tests and demo (optional)
)
quality_packages=(
  libopenblas0-pthread                  # torch's BLAS (through the libblas.so.3 alternative)
)
case $job in
  demo) packages=("${demo_packages[@]}") ;;
  tests) packages=("${demo_packages[@]}" "${test_packages[@]}") ;;
  quality) packages=("${demo_packages[@]}" "${test_packages[@]}" "${quality_packages[@]}") ;;
  *) echo "usage: $0 [demo|tests|quality]" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ $job == quality ]]; then
  # Installing OpenBLAS makes it the libblas.so.3/liblapack.so.3 alternative: pin the reference
  # implementations back.
  arch_dir=/usr/lib/$(gcc -print-multiarch)
  for lib in blas lapack; do
    ref=$arch_dir/$lib/lib$lib.so.3
    if [[ -e $ref ]]; then
      "${sudo_cmd[@]}" update-alternatives --quiet --set "lib$lib.so.3-$(gcc -print-multiarch)" "$ref"
    fi
  done
fi
