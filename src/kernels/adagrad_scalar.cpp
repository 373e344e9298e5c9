// Adagrad's scalar reference: the same operations in the same order as adagrad_simd.cpp.
#include <cmath>

#include "kernels/adagrad_kernel.hpp"

namespace simdoptim::detail::scalar {

void adagrad(const AdagradArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    if (a.weight_decay != 0.0f) g = g + a.weight_decay * p;
    const float sum = a.sum[i] + g * g;
    a.sum[i] = sum;
    a.param[i] = p + a.neg_clr * g / (std::sqrt(sum) + a.eps);
  }
}

}  // namespace simdoptim::detail::scalar
