#pragma once
// The per-element operations a kernel may use beyond + - * and comparisons, under one name for
// float (the scalar reference) and, in an instruction set's build (SIMDOPTIM_ISA_NS defined, see
// kernels/simd.hpp), for that set's batch: kernels written once over V call ops::name and get
// the same operation in every build.
#include <cmath>

#if defined(SIMDOPTIM_ISA_NS)
#include "kernels/simd.hpp"
#endif

namespace simdoptim::detail::ops {
namespace {

[[maybe_unused]] float neg(float x) {
  return -x;
}
[[maybe_unused]] float div(float a, float b) {
  return a / b;
}
[[maybe_unused]] float sqrt(float x) {
  return std::sqrt(x);
}
[[maybe_unused]] float abs(float x) {
  return std::fabs(x);
}
[[maybe_unused]] float select(bool c, float a, float b) {
  return c ? a : b;
}
[[maybe_unused]] bool isnan(float x) {
  return std::isnan(x);
}
// torch.maximum: NaN if either operand is NaN.
[[maybe_unused]] float nan_max(float a, float b) {
  const float larger = a > b ? a : b;
  return std::isnan(a) ? a : larger;
}
// x, or a zero of x's sign when |x| < floor; no arithmetic on x, which may be subnormal.
[[maybe_unused]] float flush_below(float x, float floor) {
  return std::fabs(x) < floor ? std::copysign(0.0f, x) : x;
}

#if defined(SIMDOPTIM_ISA_NS)
using Batch = SIMDOPTIM_ISA_NS::Batch;
[[maybe_unused]] Batch neg(Batch x) {
  return SIMDOPTIM_ISA_NS::negate(x);
}
[[maybe_unused]] Batch div(Batch a, Batch b) {
  return SIMDOPTIM_ISA_NS::div(a, b);
}
[[maybe_unused]] Batch sqrt(Batch x) {
  return SIMDOPTIM_ISA_NS::sqrt(x);
}
[[maybe_unused]] Batch abs(Batch x) {
  return xsimd::abs(x);
}
[[maybe_unused]] Batch select(Batch::batch_bool_type c, Batch a, Batch b) {
  return xsimd::select(c, a, b);
}
[[maybe_unused]] Batch::batch_bool_type isnan(Batch x) {
  return xsimd::isnan(x);
}
[[maybe_unused]] Batch nan_max(Batch a, Batch b) {
  return SIMDOPTIM_ISA_NS::nan_max(a, b);
}
// floor is FLT_MIN or 0 (see kernels/simd.hpp).
[[maybe_unused]] Batch flush_below(Batch x, Batch floor) {
  return SIMDOPTIM_ISA_NS::flush_below(x, floor);
}
#endif

}  // namespace
}  // namespace simdoptim::detail::ops
