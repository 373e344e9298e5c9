// Adadelta, one build per instruction set (see kernels/simd.hpp).
#include "kernels/adadelta_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize, bool WeightDecay>
void adadelta_loop(const AdadeltaArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch neg_lr(a.neg_lr), rho(a.rho), one_minus_rho(a.one_minus_rho), eps(a.eps),
      weight_decay(a.weight_decay);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    if constexpr (WeightDecay) g = g + weight_decay * p;
    const Batch sq = load(a.square_avg + i) * rho + one_minus_rho * g * g;
    sq.store_aligned(a.square_avg + i);
    const Batch acc = load(a.acc_delta + i);
    const Batch delta = div(sqrt(acc + eps), sqrt(sq + eps)) * g;
    (acc * rho + one_minus_rho * delta * delta).store_aligned(a.acc_delta + i);
    (p + neg_lr * delta).store_aligned(a.param + i);
  }
}

}  // namespace

void adadelta(const AdadeltaArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto wd) { adadelta_loop<mx, wd>(a, begin, end); }, a.maximize,
             a.weight_decay != 0.0f);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
