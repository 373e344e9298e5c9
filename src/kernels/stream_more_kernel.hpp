#pragma once
// Memory-only kernels for the access patterns of issue 8's optimizers that stream_kernel.hpp
// does not cover (for benchmarks, measured in the same binary as the optimizers).
#include "kernels/kernel.hpp"
#include "kernels/stream_kernel.hpp"

namespace simdoptim::detail {

// ASGD's pattern before averaging starts: reads a, b; writes a, c (16 B/element).
SIMDOPTIM_DECLARE_KERNEL(asgd_pattern, StreamArgs)

}  // namespace simdoptim::detail
