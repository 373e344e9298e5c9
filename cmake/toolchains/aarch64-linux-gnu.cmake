# Cross-compiles for aarch64 Linux with Debian's g++-aarch64-linux-gnu. The C and C++ runtime
# comes with the compiler (/usr/aarch64-linux-gnu); oneTBB, yaml-cpp, xsimd and Catch2 come from
# the arm64 packages that tools/bootstrap_aarch64.sh unpacks into a sysroot folder (default
# build-aarch64-sysroot in the source tree, or SIMDOPTIM_AARCH64_SYSROOT in the environment).
# Programs run under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR), so ctest works as natively.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

if(DEFINED ENV{SIMDOPTIM_AARCH64_SYSROOT})
  set(_simdoptim_deps "$ENV{SIMDOPTIM_AARCH64_SYSROOT}")
else()
  get_filename_component(_simdoptim_deps "${CMAKE_CURRENT_LIST_DIR}/../../build-aarch64-sysroot"
                         ABSOLUTE)
endif()
if(NOT EXISTS "${_simdoptim_deps}/usr/lib/aarch64-linux-gnu/cmake/TBB")
  message(FATAL_ERROR "no arm64 libraries in ${_simdoptim_deps}: run tools/bootstrap_aarch64.sh")
endif()

# Packages, libraries and headers only from the cross runtime and the unpacked folder, never
# the host's amd64 ones; programs (ninja, python3) from the host.
set(CMAKE_FIND_ROOT_PATH "${_simdoptim_deps}" /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The unpacked libraries' own dependencies (libtbb needs libtbbmalloc, ...) at link time; at run
# time the build tree's RPATH points at the folder.
set(_simdoptim_libdir "${_simdoptim_deps}/usr/lib/aarch64-linux-gnu")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_simdoptim_libdir}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "-Wl,-rpath-link,${_simdoptim_libdir}")

# qemu-user finds the dynamic loader and the C runtime under -L.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
