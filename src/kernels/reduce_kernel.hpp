#pragma once
// Reductions over a range of an arena (gradient norms, trust ratios). Each build computes the
// same fixed blocking: 16 float lanes (lane j takes elements begin + j, begin + j + 16, ...) over
// blocks of kReduceBlock elements, each block's lanes summed in double in lane order, blocks
// summed in order. So every instruction set gives the same bits, and a caller that cuts ranges
// at fixed offsets and combines them in order gets the same bits at any thread count.
#include <cstddef>
#include <cstdint>

#include "kernels/kernel.hpp"
#include "kernels/storage_format.hpp"

namespace simdoptim::detail {

inline constexpr std::size_t kReduceLanes = 16;
inline constexpr std::size_t kReduceBlock = 1024;

struct ReduceArgs {
  const float* x = nullptr;
  double* out = nullptr;  // receives the range's result
  // x holds this many elements; those past it read as zero (an engine's gradient buffer, which
  // has no padding). Loads are unaligned for the same reason.
  std::size_t count = SIZE_MAX;
  // Set instead of x: 16-bit elements of format16, reduced widened to float (the same bits as x
  // holding the widened values).
  const std::uint16_t* x16 = nullptr;
  Storage format16 = Storage::bf16;
};

// *out = sum of x[i]^2 (squares in float per lane, as above). NaN/Inf in, NaN/Inf out.
SIMDOPTIM_DECLARE_KERNEL(sum_squares, ReduceArgs)
// *out = max |x[i]|, NaN if any element is NaN.
SIMDOPTIM_DECLARE_KERNEL(abs_max, ReduceArgs)

}  // namespace simdoptim::detail
