// NAdam's scalar reference: the same operations in the same order as nadam_simd.cpp.
#include <cmath>

#include "kernels/nadam_kernel.hpp"

namespace simdoptim::detail::scalar {

void nadam(const NadamArgs& a, std::size_t begin, std::size_t end) noexcept {
  const AdamMoments<float> moments(a);
  for (std::size_t i = begin; i < end; ++i) {
    float p = a.param[i], g = a.grad[i], m = a.exp_avg[i], v = a.exp_avg_sq[i];
    moments.update(p, g, m, v, a.weight_decay != 0.0f, a.decay_factor != 1.0f);
    a.exp_avg[i] = m;
    a.exp_avg_sq[i] = v;
    const float denom = std::sqrt(v / a.bias_correction2) + a.eps;
    p = p + a.grad_coef * g / denom;
    a.param[i] = p + a.exp_avg_coef * m / denom;
  }
}

}  // namespace simdoptim::detail::scalar
