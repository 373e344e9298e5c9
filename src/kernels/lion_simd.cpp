// Lion, one build per instruction set (see kernels/simd.hpp).
#include "kernels/lion_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

// torch.sign from comparisons: +1, -1, or x itself for +-0 and NaN.
Batch sign(Batch x) {
  return xsimd::select(x > Batch(0.0f), Batch(1.0f),
                       xsimd::select(x < Batch(0.0f), Batch(-1.0f), x));
}

template <bool Maximize, bool Decay>
void lion_loop(const LionArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch neg_lr(a.neg_lr), beta1(a.beta1), one_minus_beta1(a.one_minus_beta1), beta2(a.beta2),
      one_minus_beta2(a.one_minus_beta2), decay_factor(a.decay_factor);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    const Batch m = load(a.exp_avg + i);
    if constexpr (Decay) p = p * decay_factor;
    const Batch c = m * beta1 + one_minus_beta1 * g;
    p = p + neg_lr * sign(c);
    p.store_aligned(a.param + i);
    (m * beta2 + one_minus_beta2 * g).store_aligned(a.exp_avg + i);
  }
}

}  // namespace

void lion(const LionArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto decay) { lion_loop<mx, decay>(a, begin, end); }, a.maximize,
             a.decay_factor != 1.0f);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
