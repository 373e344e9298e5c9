// ASGD's scalar reference: the same operations in the same order as asgd_simd.cpp.
#include "kernels/asgd_kernel.hpp"

namespace simdoptim::detail::scalar {

void asgd(const AsgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    float p = a.param[i];
    float g = a.grad[i];
    if (a.maximize) g = -g;
    if (a.weight_decay != 0.0f) g = g + a.weight_decay * p;
    p = p * a.decay_factor;
    p = p + a.neg_eta * g;
    a.param[i] = p;
    a.ax[i] = a.mu != 1.0f ? a.ax[i] + (p - a.ax[i]) * a.mu : p;
  }
}

}  // namespace simdoptim::detail::scalar
