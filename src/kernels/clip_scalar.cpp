// Gradient clipping, scalar reference: the same operations as clip_simd.cpp.
#include <cmath>

#include "kernels/clip_kernel.hpp"

namespace simdoptim::detail::scalar {

void clip_scale(const ClipScaleArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) a.x[i] = a.x[i] * a.factor;
}

void clip_clamp(const ClipClampArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float x = a.x[i];
    const float raised = x > a.lo ? x : a.lo;
    const float clamped = raised < a.hi ? raised : a.hi;
    a.x[i] = std::isnan(x) ? x : clamped;
  }
}

}  // namespace simdoptim::detail::scalar
