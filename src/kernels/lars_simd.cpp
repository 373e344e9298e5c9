// LARS, one build per instruction set (see kernels/simd.hpp).
#include "kernels/lars_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Adapt, bool Momentum, bool Nesterov, bool First>
void lars_loop(const LarsArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch neg_lr(a.neg_lr), weight_decay(a.weight_decay), trust_ratio(a.trust_ratio),
      momentum(a.momentum), one_minus_dampening(a.one_minus_dampening);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Adapt) g = (g + weight_decay * p) * trust_ratio;
    if constexpr (Momentum) {
      Batch buf = g;
      if constexpr (!First) buf = load(a.momentum_buffer + i) * momentum + one_minus_dampening * g;
      buf.store_aligned(a.momentum_buffer + i);
      if constexpr (Nesterov)
        g = g + momentum * buf;
      else
        g = buf;
    }
    (p + neg_lr * g).store_aligned(a.param + i);
  }
}

}  // namespace

void lars(const LarsArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto adapt, auto mom, auto nest,
                 auto first) { lars_loop<adapt, mom, nest, first>(a, begin, end); },
             a.adapt, a.momentum_buffer != nullptr, a.nesterov, a.first_step);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
