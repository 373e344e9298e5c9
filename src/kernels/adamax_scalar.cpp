// Adamax's scalar reference: the same operations in the same order as adamax_simd.cpp.
#include <cmath>

#include "kernels/adamax_kernel.hpp"

namespace simdoptim::detail::scalar {
namespace {

// torch.amax over two values: NaN if either is NaN.
float nan_max(float a, float b) {
  const float larger = a > b ? a : b;
  return std::isnan(a) ? a : larger;
}

}  // namespace

void adamax(const AdamaxArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    if (a.weight_decay != 0.0f) g = g + a.weight_decay * p;
    const float m = a.exp_avg[i] * a.beta1 + a.one_minus_beta1 * g;
    const float u = nan_max(a.exp_inf[i] * a.beta2, std::fabs(g) + a.eps);
    a.exp_avg[i] = m;
    a.exp_inf[i] = u;
    a.param[i] = p + a.neg_clr * m / u;
  }
}

}  // namespace simdoptim::detail::scalar
