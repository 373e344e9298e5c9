// Adam / AdamW, one build per instruction set (see kernels/simd.hpp).
#include "kernels/adam_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize, bool L2, bool Decoupled, bool Amsgrad>
void adam_loop(const AdamArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch beta1(a.beta1), one_minus_beta1(a.one_minus_beta1), beta2(a.beta2),
      one_minus_beta2(a.one_minus_beta2), neg_step_size(a.neg_step_size),
      inv_bc2_sqrt(a.inv_bias_correction2_sqrt), eps(a.eps), weight_decay(a.weight_decay),
      decay_factor(a.decay_factor);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    if constexpr (Decoupled) p = p * decay_factor;
    if constexpr (L2) g = g + weight_decay * p;
    const Batch m = load(a.exp_avg + i) * beta1 + one_minus_beta1 * g;
    Batch v = load(a.exp_avg_sq + i) * beta2 + one_minus_beta2 * g * g;
    m.store_aligned(a.exp_avg + i);
    v.store_aligned(a.exp_avg_sq + i);
    if constexpr (Amsgrad) {
      v = nan_max(load(a.max_exp_avg_sq + i), v);
      v.store_aligned(a.max_exp_avg_sq + i);
    }
    const Batch denom = sqrt(v) * inv_bc2_sqrt + eps;
    p = p + neg_step_size * div(m, denom);
    p.store_aligned(a.param + i);
  }
}

}  // namespace

void adam(const AdamArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools(
      [&](auto mx, auto l2, auto dec, auto ams) { adam_loop<mx, l2, dec, ams>(a, begin, end); },
      a.maximize, a.weight_decay != 0.0f, a.decay_factor != 1.0f, a.max_exp_avg_sq != nullptr);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
