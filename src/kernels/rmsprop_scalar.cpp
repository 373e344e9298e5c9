// RMSprop's scalar reference: the same operations in the same order as rmsprop_simd.cpp.
#include <cmath>

#include "kernels/rmsprop_kernel.hpp"

namespace simdoptim::detail::scalar {

void rmsprop(const RmspropArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    if (a.weight_decay != 0.0f) g = g + a.weight_decay * p;
    const float sq = a.square_avg[i] * a.alpha + a.one_minus_alpha * g * g;
    a.square_avg[i] = sq;
    float avg;
    if (a.grad_avg != nullptr) {
      const float ga = a.grad_avg[i] * a.alpha + a.one_minus_alpha * g;
      a.grad_avg[i] = ga;
      avg = std::sqrt(sq - ga * ga) + a.eps;
    } else {
      avg = std::sqrt(sq) + a.eps;
    }
    if (a.momentum_buffer != nullptr) {
      const float buf = a.momentum_buffer[i] * a.momentum + g / avg;
      a.momentum_buffer[i] = buf;
      a.param[i] = p + a.neg_lr * buf;
    } else {
      a.param[i] = p + a.neg_lr * g / avg;
    }
  }
}

}  // namespace simdoptim::detail::scalar
