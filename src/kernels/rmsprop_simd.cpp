// RMSprop, one build per instruction set (see kernels/simd.hpp).
#include "kernels/rmsprop_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize, bool WeightDecay, bool Centered, bool Momentum>
void rmsprop_loop(const RmspropArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch neg_lr(a.neg_lr), alpha(a.alpha), one_minus_alpha(a.one_minus_alpha), eps(a.eps),
      momentum(a.momentum), weight_decay(a.weight_decay);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    if constexpr (WeightDecay) g = g + weight_decay * p;
    const Batch sq = load(a.square_avg + i) * alpha + one_minus_alpha * g * g;
    sq.store_aligned(a.square_avg + i);
    Batch avg;
    if constexpr (Centered) {
      const Batch ga = load(a.grad_avg + i) * alpha + one_minus_alpha * g;
      ga.store_aligned(a.grad_avg + i);
      avg = sqrt(sq - ga * ga) + eps;
    } else {
      avg = sqrt(sq) + eps;
    }
    if constexpr (Momentum) {
      const Batch buf = load(a.momentum_buffer + i) * momentum + div(g, avg);
      buf.store_aligned(a.momentum_buffer + i);
      p = p + neg_lr * buf;
    } else {
      p = p + div(neg_lr * g, avg);
    }
    p.store_aligned(a.param + i);
  }
}

}  // namespace

void rmsprop(const RmspropArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto wd, auto centered,
                 auto mom) { rmsprop_loop<mx, wd, centered, mom>(a, begin, end); },
             a.maximize, a.weight_decay != 0.0f, a.grad_avg != nullptr,
             a.momentum_buffer != nullptr);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
