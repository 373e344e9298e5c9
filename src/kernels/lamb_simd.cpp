// LAMB's first pass, one build per instruction set (see kernels/simd.hpp).
#include "kernels/lamb_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Clip, bool Decay, bool Store, bool Stream>
void lamb_loop(const LambArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch clip(a.clip), beta1(a.beta1), beta3(a.beta3), beta2(a.beta2),
      one_minus_beta2(a.one_minus_beta2), inv_bc1(a.inv_bias_correction1),
      inv_bc2_sqrt(a.inv_bias_correction2_sqrt), eps(a.eps), weight_decay(a.weight_decay),
      neg_lr(a.neg_lr);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch g = load(a.grad + i);
    if constexpr (Clip) g = div(g, clip);
    const Batch m = load(a.exp_avg + i) * beta1 + beta3 * g;
    const Batch v = load(a.exp_avg_sq + i) * beta2 + one_minus_beta2 * g * g;
    m.store_aligned(a.exp_avg + i);
    v.store_aligned(a.exp_avg_sq + i);
    const Batch denom = sqrt(v) * inv_bc2_sqrt + eps;
    Batch u = div(m * inv_bc1, denom);
    const Batch p = load(a.param + i);
    if constexpr (Decay) u = u + weight_decay * p;
    if constexpr (Store && Stream)
      store_stream(a.update + i, u);
    else if constexpr (Store)
      u.store_aligned(a.update + i);
    else
      (p + neg_lr * u).store_aligned(a.param + i);
  }
}

}  // namespace

void lamb(const LambArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto clip, auto decay, auto store,
                 auto stream) { lamb_loop<clip, decay, store, stream>(a, begin, end); },
             a.clip != 1.0f, a.weight_decay != 0.0f, a.update != nullptr, a.stream_update);
  if (a.stream_update) stream_fence();
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
