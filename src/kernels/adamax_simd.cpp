// Adamax, one build per instruction set (see kernels/simd.hpp).
#include "kernels/adamax_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize, bool WeightDecay>
void adamax_loop(const AdamaxArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch beta1(a.beta1), one_minus_beta1(a.one_minus_beta1), beta2(a.beta2),
      neg_clr(a.neg_clr), eps(a.eps), weight_decay(a.weight_decay);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    if constexpr (WeightDecay) g = g + weight_decay * p;
    const Batch m = load(a.exp_avg + i) * beta1 + one_minus_beta1 * g;
    const Batch u = nan_max(load(a.exp_inf + i) * beta2, xsimd::abs(g) + eps);
    m.store_aligned(a.exp_avg + i);
    u.store_aligned(a.exp_inf + i);
    (p + div(neg_clr * m, u)).store_aligned(a.param + i);
  }
}

}  // namespace

void adamax(const AdamaxArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto wd) { adamax_loop<mx, wd>(a, begin, end); }, a.maximize,
             a.weight_decay != 0.0f);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
