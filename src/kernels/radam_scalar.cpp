// RAdam's scalar reference: the same operations in the same order as radam_simd.cpp.
#include <cmath>

#include "kernels/radam_kernel.hpp"

namespace simdoptim::detail::scalar {

void radam(const RadamArgs& a, std::size_t begin, std::size_t end) noexcept {
  const AdamMoments<float> moments(a);
  for (std::size_t i = begin; i < end; ++i) {
    float p = a.param[i], g = a.grad[i], m = a.exp_avg[i], v = a.exp_avg_sq[i];
    moments.update(p, g, m, v, a.weight_decay != 0.0f, a.decay_factor != 1.0f);
    a.exp_avg[i] = m;
    a.exp_avg_sq[i] = v;
    if (a.rectified)
      a.param[i] = p + a.neg_step_size * (m / (std::sqrt(v) + a.eps));
    else
      a.param[i] = p + a.neg_step_size * m;
  }
}

}  // namespace simdoptim::detail::scalar
