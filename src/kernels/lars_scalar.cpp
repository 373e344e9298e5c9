// LARS's scalar reference: the same operations in the same order as lars_simd.cpp.
#include "kernels/lars_kernel.hpp"

namespace simdoptim::detail::scalar {

void lars(const LarsArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float p = a.param[i];
    float g = a.grad[i];
    if (a.adapt) g = (g + a.weight_decay * p) * a.trust_ratio;
    if (a.momentum_buffer != nullptr) {
      const float buf =
          a.first_step ? g : a.momentum_buffer[i] * a.momentum + a.one_minus_dampening * g;
      a.momentum_buffer[i] = buf;
      g = a.nesterov ? g + a.momentum * buf : buf;
    }
    a.param[i] = p + a.neg_lr * g;
  }
}

}  // namespace simdoptim::detail::scalar
