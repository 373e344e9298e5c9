// Adagrad, one build per instruction set (see kernels/simd.hpp).
#include "kernels/adagrad_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize, bool WeightDecay>
void adagrad_loop(const AdagradArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch neg_clr(a.neg_clr), eps(a.eps), weight_decay(a.weight_decay);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    if constexpr (WeightDecay) g = g + weight_decay * p;
    const Batch sum = load(a.sum + i) + g * g;
    sum.store_aligned(a.sum + i);
    (p + div(neg_clr * g, sqrt(sum) + eps)).store_aligned(a.param + i);
  }
}

}  // namespace

void adagrad(const AdagradArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto wd) { adagrad_loop<mx, wd>(a, begin, end); }, a.maximize,
             a.weight_decay != 0.0f);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
