// SGD's scalar reference: the same operations in the same order as sgd_simd.cpp, kept plain.
#include "kernels/sgd_kernel.hpp"

namespace simdoptim::detail::scalar {

void sgd(const SgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float p = a.param[i];
    float d = a.grad[i];
    if (a.maximize) d = -d;
    if (a.weight_decay != 0.0f) d = d + a.weight_decay * p;
    if (a.momentum_buffer != nullptr) {
      float buf = d;
      if (!a.first_step) buf = a.momentum_buffer[i] * a.momentum + a.one_minus_dampening * d;
      a.momentum_buffer[i] = buf;
      d = a.nesterov ? d + a.momentum * buf : buf;
    }
    a.param[i] = p + a.neg_lr * d;
  }
}

}  // namespace simdoptim::detail::scalar
