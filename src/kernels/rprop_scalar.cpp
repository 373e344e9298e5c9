// Rprop's scalar reference: the same operations in the same order as rprop_simd.cpp.
#include "kernels/rprop_kernel.hpp"

namespace simdoptim::detail::scalar {

void rprop(const RpropArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    float g = a.grad[i];
    if (a.maximize) g = -g;
    const float s = g * a.prev[i];
    const float factor = s > 0.0f ? a.etaplus : s < 0.0f ? a.etaminus : 1.0f;
    float step = a.step_size[i] * factor;
    step = step < a.step_size_min ? a.step_size_min : step;
    step = step > a.step_size_max ? a.step_size_max : step;
    if (s < 0.0f) g = 0.0f;
    // -sign(g); torch.sign gives 0 for zeros and NaN, and -1 * 0 is -0.
    const float neg_sign = g > 0.0f ? -1.0f : g < 0.0f ? 1.0f : -0.0f;
    a.step_size[i] = step;
    a.prev[i] = g;
    a.param[i] = a.param[i] + neg_sign * step;
  }
}

}  // namespace simdoptim::detail::scalar
