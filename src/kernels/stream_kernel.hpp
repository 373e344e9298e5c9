#pragma once
// Memory-only kernels for benchmarks: the physical limit of an optimizer's access pattern,
// measured in the same binary as the optimizer itself.
#include <array>
#include <cstddef>

#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct StreamArgs {
  float* a = nullptr;
  float* b = nullptr;
  float* c = nullptr;
  float* d = nullptr;
  float scalar = 0;
  float* e = nullptr;
};

// Adam's access pattern with trivial arithmetic: reads a, b, c, d; writes a, c, d (28 B/element).
SIMDOPTIM_DECLARE_KERNEL(adam_pattern, StreamArgs)
// Adam with an average updated in the same pass: reads a, b, c, d, e; writes a, c, d, e
// (36 B/element).
SIMDOPTIM_DECLARE_KERNEL(adam_average_pattern, StreamArgs)
// SGD-momentum's pattern: reads a, b, c; writes a, c (20 B/element).
SIMDOPTIM_DECLARE_KERNEL(sgd_pattern, StreamArgs)
// ASGD's pattern before averaging starts: reads a, b; writes a, c (16 B/element).
SIMDOPTIM_DECLARE_KERNEL(asgd_pattern, StreamArgs)
// A gradient norm's pattern: reads a (4 B/element), summed in four independent accumulators;
// c[0] receives the sum only if it is NaN (so the reads stay, and threads never write).
SIMDOPTIM_DECLARE_KERNEL(read_pattern, StreamArgs)
// STREAM triad: a = b + scalar * c (12 B/element).
SIMDOPTIM_DECLARE_KERNEL(triad, StreamArgs)

// An optimizer's access pattern with arrays of any element size (2 or 4 bytes): arrays read and
// written (parameters, state), one read only (gradients), one written only (a parameter copy),
// in tiles of 256 elements as the 16-bit kernels go; null arrays are absent.
struct StoragePatternArgs {
  static constexpr std::size_t kMaxArrays = 4;
  std::array<void*, kMaxArrays> rw{};
  std::array<std::size_t, kMaxArrays> rw_size{};
  const void* ro = nullptr;
  std::size_t ro_size = 4;
  void* wo = nullptr;
  std::size_t wo_size = 2;
};
SIMDOPTIM_DECLARE_KERNEL(storage_pattern, StoragePatternArgs)

}  // namespace simdoptim::detail
