// NAdam, one build per instruction set (see kernels/simd.hpp).
#include "kernels/nadam_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool L2, bool Decoupled>
void nadam_loop(const NadamArgs& a, std::size_t begin, std::size_t end) noexcept {
  const AdamMoments<Batch> moments(a);
  const Batch bias_correction2(a.bias_correction2), grad_coef(a.grad_coef),
      exp_avg_coef(a.exp_avg_coef), eps(a.eps);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i), g = load(a.grad + i);
    Batch m = load(a.exp_avg + i), v = load(a.exp_avg_sq + i);
    moments.update(p, g, m, v, L2, Decoupled);
    m.store_aligned(a.exp_avg + i);
    v.store_aligned(a.exp_avg_sq + i);
    const Batch denom = sqrt(div(v, bias_correction2)) + eps;
    p = p + div(grad_coef * g, denom);
    p = p + div(exp_avg_coef * m, denom);
    p.store_aligned(a.param + i);
  }
}

}  // namespace

void nadam(const NadamArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto l2, auto dec) { nadam_loop<l2, dec>(a, begin, end); }, a.weight_decay != 0.0f,
             a.decay_factor != 1.0f);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
