// LARS, written once over V (kernels/kernel_source.hpp): the scalar reference and every
// instruction set's kernel.
#include "kernels/kernel_source.hpp"
#include "kernels/lars_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <class V, bool Adapt, bool Momentum, bool Nesterov, bool First>
void lars_loop(const LarsArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V neg_lr(a.neg_lr), weight_decay(a.weight_decay), trust_ratio(a.trust_ratio),
      momentum(a.momentum), one_minus_dampening(a.one_minus_dampening);
  for (std::size_t i = begin; i + w <= end; i += w) {
    const V p = vload<V>(a.param + i);
    V g = vload<V>(a.grad + i);
    if constexpr (Adapt) g = (g + weight_decay * p) * trust_ratio;
    if constexpr (Momentum) {
      V buf = g;
      if constexpr (!First)
        buf = vload<V>(a.momentum_buffer + i) * momentum + one_minus_dampening * g;
      vstore(a.momentum_buffer + i, buf);
      if constexpr (Nesterov)
        g = g + momentum * buf;
      else
        g = buf;
    }
    vstore(a.param + i, p + neg_lr * g);
  }
}

template <class V>
void lars_run(const LarsArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto adapt, auto mom, auto nest,
                 auto first) { lars_loop<V, adapt, mom, nest, first>(a, begin, end); },
             a.adapt, a.momentum_buffer != nullptr, a.nesterov, a.first_step);
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(lars, LarsArgs, lars_run)
