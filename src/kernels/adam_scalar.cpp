// Adam's scalar reference: the same operations in the same order as adam_simd.cpp, kept plain.
#include <cmath>

#include "kernels/adam_kernel.hpp"

namespace simdoptim::detail::scalar {
namespace {

// torch.maximum: NaN if either operand is NaN.
float nan_max(float a, float b) {
  const float larger = a > b ? a : b;
  return std::isnan(a) ? a : larger;
}

}  // namespace

void adam(const AdamArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    if (a.decay_factor != 1.0f) p = p * a.decay_factor;
    if (a.weight_decay != 0.0f) g = g + a.weight_decay * p;
    const float m = a.exp_avg[i] * a.beta1 + a.one_minus_beta1 * g;
    float v = a.exp_avg_sq[i] * a.beta2 + a.one_minus_beta2 * g * g;
    a.exp_avg[i] = m;
    a.exp_avg_sq[i] = v;
    if (a.max_exp_avg_sq != nullptr) {
      v = nan_max(a.max_exp_avg_sq[i], v);
      a.max_exp_avg_sq[i] = v;
    }
    const float denom = std::sqrt(v) * a.inv_bias_correction2_sqrt + a.eps;
    a.param[i] = p + a.neg_step_size * (m / denom);
  }
}

}  // namespace simdoptim::detail::scalar
