#pragma once
// The element operations the SIMD kernels are built from, one at a time over whole arrays, so a
// test can hold each build's version of every operation against the scalar reference's on any
// inputs (tests/test_simd_ops.cpp). Not part of any optimizer.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

// What kernels/simd.hpp and the kernels apply to batches; the scalar build applies the scalar
// reference's operation (in brackets).
enum class SimdOp {
  add,             // a + b
  sub,             // a - b
  mul,             // a * b
  div,             // div(a, b)             [a / b]
  sqrt,            // sqrt(a)               [std::sqrt(a)]
  abs,             // xsimd::abs(a)         [std::fabs(a)]
  negate,          // negate(a)             [-a]
  nan_max,         // nan_max(a, b)         [isnan(a) ? a : (a > b ? a : b)]
  select_less,     // select(a < b, a, b)   [a < b ? a : b]
  select_greater,  // select(a > b, a, b)   [a > b ? a : b]
  select_nan,      // select(isnan(a), a, b) [isnan(a) ? a : b]
  flush_min,       // flush_below(a, FLT_MIN) [|a| < FLT_MIN ? copysign(0, a) : a]
  flush_off,       // flush_below(a, 0)     [a]
};

struct SimdOpArgs {
  SimdOp op = SimdOp::add;
  const float* a = nullptr;
  const float* b = nullptr;  // unused by the one-operand operations
  float* out = nullptr;
};

SIMDOPTIM_DECLARE_KERNEL(simd_op, SimdOpArgs)

}  // namespace simdoptim::detail
