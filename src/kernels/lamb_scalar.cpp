// LAMB's first pass, scalar reference: the same operations in the same order as lamb_simd.cpp.
#include <cmath>

#include "kernels/lamb_kernel.hpp"

namespace simdoptim::detail::scalar {

void lamb(const LambArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    float g = a.grad[i];
    if (a.clip != 1.0f) g = g / a.clip;
    const float m = a.exp_avg[i] * a.beta1 + a.beta3 * g;
    const float v = a.exp_avg_sq[i] * a.beta2 + a.one_minus_beta2 * g * g;
    a.exp_avg[i] = m;
    a.exp_avg_sq[i] = v;
    const float denom = std::sqrt(v) * a.inv_bias_correction2_sqrt + a.eps;
    float u = (m * a.inv_bias_correction1) / denom;
    const float p = a.param[i];
    if (a.weight_decay != 0.0f) u = u + a.weight_decay * p;
    if (a.update != nullptr)
      a.update[i] = u;
    else
      a.param[i] = p + a.neg_lr * u;
  }
}

}  // namespace simdoptim::detail::scalar
