#pragma once
// Adafactor's kernels; formula in include/simdoptim/adafactor.hpp.
//
// A tensor of 2 or more dimensions is a sequence of rows of `cols` floats (cols = last
// dimension), row r starting at grad + r * cols: rows are not 64-byte aligned, so these kernels
// load unaligned and finish each row with a scalar tail. Their [begin, end) is a range of rows.
// The fixed order that makes the sums identical on every build:
//   - a row's sum (of g^2, or of U^2) uses 16 float lanes: lane j takes columns j, j + 16, ...
//     of the row's whole 16-column groups, then the tail column c goes to lane c - 16 * (cols /
//     16); the lanes are summed in double in lane order.
//   - column sums of g^2 over a block of rows are float sums in row order; the host cuts a
//     slice's rows into blocks at fixed offsets and adds the blocks' sums in double in order.
// Other tensors (one dimension or none) are arena ranges that start aligned and end at the tensor's
// last element, not at its padding: the padding has g = 0 and V = 0, whose U is 0 / sqrt(0) = NaN
// when eps1^2 is 0 in float32. The SIMD builds finish a range with a scalar tail. Their sums of U^2
// use reduce_kernel.hpp's lanes and kReduceBlock blocks.
#include <cstddef>

#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AdafactorArgs {
  float* param = nullptr;       // the tensor's first element
  const float* grad = nullptr;  // the tensor's first element
  // Factored tensors.
  std::size_t cols = 0;
  const float* row_var = nullptr;  // the tensor's row_var, indexed by row
  const float* col_var = nullptr;  // the col_var of the slice the rows belong to
  float inv_row_mean = 1;          // 1 / max(mean(row_var), eps1) of that slice: torch divides, a
                                   // multiply keeps the passes at one division (the divider limits)
  double* row_sum = nullptr;       // row_stats: receives each row's sum of g^2, indexed by row
  float* col_sum = nullptr;        // row_stats: receives the block's column sums of g^2
  // Other tensors.
  float* variance = nullptr;  // the tensor's first element
  float w = 0;                // lerp weight t^beta2_decay
  float one_minus_w = 1;      // 1 - w in float, as torch's lerp computes it
  bool lerp_low = false;      // |w| < 0.5: a + w (b - a); else b - (b - a)(1 - w)
  // Both.
  float eps1_sq = 0;
  bool maximize = false;
  double* out = nullptr;   // *_norm: receives the range's sum of U^2
  float decay_factor = 1;  // *_apply: 1 - lr * weight_decay
  float neg_step = 0;      // *_apply: -alpha / max(1, RMS(U) / d)
};

// Factored tensors, [begin, end) = rows.
SIMDOPTIM_DECLARE_KERNEL(adafactor_row_stats, AdafactorArgs)
SIMDOPTIM_DECLARE_KERNEL(adafactor_row_norm, AdafactorArgs)
SIMDOPTIM_DECLARE_KERNEL(adafactor_row_apply, AdafactorArgs)
// Other tensors, [begin, end) = elements from `param`, `grad` and `variance`, begin a multiple of
// 16, end any element up to the tensor's size. The norm pass also updates the variance.
SIMDOPTIM_DECLARE_KERNEL(adafactor_vector_norm, AdafactorArgs)
SIMDOPTIM_DECLARE_KERNEL(adafactor_vector_apply, AdafactorArgs)

}  // namespace simdoptim::detail
