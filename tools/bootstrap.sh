#!/usr/bin/env bash
# Installs with apt what the build needs, only when something is missing (fast when all is there).
set -euo pipefail
packages=(
  cmake ninja-build g++ libxsimd-dev libtbb-dev catch2 libbenchmark-dev libyaml-cpp-dev
  libcli11-dev                          # simdoptim-bench's argument parser
  clang libclang-rt-14-dev              # libFuzzer targets (tools/run_fuzz.sh)
  pybind11-dev python3-dev              # the Python module
  python3-torch python3-numpy           # the Python module's tests against torch.optim
)
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
