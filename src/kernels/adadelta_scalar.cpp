// Adadelta's scalar reference: the same operations in the same order as adadelta_simd.cpp.
#include <cmath>

#include "kernels/adadelta_kernel.hpp"

namespace simdoptim::detail::scalar {

void adadelta(const AdadeltaArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    if (a.weight_decay != 0.0f) g = g + a.weight_decay * p;
    const float sq = a.square_avg[i] * a.rho + a.one_minus_rho * g * g;
    a.square_avg[i] = sq;
    const float acc = a.acc_delta[i];
    const float delta = std::sqrt(acc + a.eps) / std::sqrt(sq + a.eps) * g;
    a.acc_delta[i] = acc * a.rho + a.one_minus_rho * delta * delta;
    a.param[i] = p + a.neg_lr * delta;
  }
}

}  // namespace simdoptim::detail::scalar
