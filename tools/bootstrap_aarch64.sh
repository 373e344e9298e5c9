#!/usr/bin/env bash
# Sets up the aarch64 cross build (tools/run_aarch64_tests.sh): installs Debian's cross compiler
# and qemu-user with apt (amd64 packages that sit beside the native toolchain), and unpacks the
# arm64 libraries and headers the library and its tests need into a sysroot folder, where the
# toolchain file (cmake/toolchains/aarch64-linux-gnu.cmake) finds them.
#
# Why a folder and not multiarch packages: libyaml-cpp-dev:arm64 cannot co-install with
# libyaml-cpp-dev:amd64 (apt removes the amd64 one, breaking the x86 build), and libtbb12:arm64
# pulls libudev1:arm64, which must match the host's libudev1 version and so upgrades the host's
# systemd packages. Unpacked into a folder, nothing on the host changes but the package lists.
# Fast when everything is already there.
#
# Usage: tools/bootstrap_aarch64.sh [sysroot]   (default: build-aarch64-sysroot in the repo)
set -euo pipefail
cd "$(dirname "$0")/.."
sysroot=${1:-${SIMDOPTIM_AARCH64_SYSROOT:-$PWD/build-aarch64-sysroot}}
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)

host_packages=(g++-aarch64-linux-gnu qemu-user)
# Headers (xsimd, Catch2) and libraries with their CMake package configurations. The C and C++
# runtime comes with the cross compiler (/usr/aarch64-linux-gnu). TBB's package configuration
# names libtbbbind, so it is unpacked too; its libhwloc is not (oneTBB loads libtbbbind only to
# read the NUMA topology, and runs without it when it cannot).
# libcli11-dev and nlohmann-json3-dev (headers, architecture "all") let the tools configure;
# simdoptim-bench is not built for the emulated tests but can be for a real aarch64 machine.
arm64_packages=(libtbb-dev:arm64 libtbb12:arm64 libtbbmalloc2:arm64 libtbbbind-2-5:arm64
                libyaml-cpp-dev:arm64 libyaml-cpp0.7:arm64 libxsimd-dev:arm64 catch2:arm64
                libcli11-dev nlohmann-json3-dev)

missing=()
for p in "${host_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
updated=0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  echo "bootstrap_aarch64: adding the arm64 architecture to apt (for apt-get download)"
  "${sudo_cmd[@]}" dpkg --add-architecture arm64
  "${sudo_cmd[@]}" apt-get update -qq
  updated=1
fi
if ((${#missing[@]})); then
  echo "bootstrap_aarch64: installing ${missing[*]}"
  ((updated)) || "${sudo_cmd[@]}" apt-get update -qq
  updated=1
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# The sysroot records the exact versions it holds; a changed candidate version re-unpacks it.
wanted=$(for p in "${arm64_packages[@]}"; do
  echo "$p $(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')"
done)
if [[ -f $sysroot/.packages ]] && [[ $(cat "$sysroot/.packages") == "$wanted" ]]; then
  exit 0
fi
if grep -q " (none)$" <<<"$wanted"; then
  ((updated)) || "${sudo_cmd[@]}" apt-get update -qq
  wanted=$(for p in "${arm64_packages[@]}"; do
    echo "$p $(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')"
  done)
fi
echo "bootstrap_aarch64: unpacking ${arm64_packages[*]} into $sysroot"
rm -rf "$sysroot"
mkdir -p "$sysroot/debs"
(cd "$sysroot/debs" && apt-get download -qq -o APT::Sandbox::User=root "${arm64_packages[@]}")
for deb in "$sysroot"/debs/*.deb; do dpkg -x "$deb" "$sysroot"; done
rm -rf "$sysroot/debs"
echo "$wanted" >"$sysroot/.packages"
