// SGD, one build per instruction set (see kernels/simd.hpp).
#include "kernels/sgd_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize, bool WeightDecay, bool Momentum, bool FirstStep, bool Nesterov>
void sgd_loop(const SgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch neg_lr(a.neg_lr), momentum(a.momentum), one_minus_dampening(a.one_minus_dampening),
      weight_decay(a.weight_decay);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i);
    Batch d = load(a.grad + i);
    if constexpr (Maximize) d = negate(d);
    if constexpr (WeightDecay) d = d + weight_decay * p;
    if constexpr (Momentum) {
      Batch buf = d;
      if constexpr (!FirstStep)
        buf = load(a.momentum_buffer + i) * momentum + one_minus_dampening * d;
      buf.store_aligned(a.momentum_buffer + i);
      d = Nesterov ? d + momentum * buf : buf;
    }
    p = p + neg_lr * d;
    p.store_aligned(a.param + i);
  }
}

}  // namespace

void sgd(const SgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto wd, auto mom, auto first,
                 auto nest) { sgd_loop<mx, wd, mom, first, nest>(a, begin, end); },
             a.maximize, a.weight_decay != 0.0f, a.momentum_buffer != nullptr, a.first_step,
             a.nesterov);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
