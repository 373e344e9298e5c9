// Lion's scalar reference: the same operations in the same order as lion_simd.cpp.
#include "kernels/lion_kernel.hpp"

namespace simdoptim::detail::scalar {
namespace {

// torch.sign: +1, -1, or x itself for +-0 and NaN.
float sign(float x) {
  return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x);
}

}  // namespace

void lion(const LionArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    const float m = a.exp_avg[i];
    if (a.decay_factor != 1.0f) p = p * a.decay_factor;
    const float c = m * a.beta1 + a.one_minus_beta1 * g;
    a.param[i] = p + a.neg_lr * sign(c);
    a.exp_avg[i] = m * a.beta2 + a.one_minus_beta2 * g;
  }
}

}  // namespace simdoptim::detail::scalar
