// ASGD, one build per instruction set (see kernels/simd.hpp).
#include "kernels/asgd_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize, bool WeightDecay, bool Average>
void asgd_loop(const AsgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch decay_factor(a.decay_factor), neg_eta(a.neg_eta), mu(a.mu),
      weight_decay(a.weight_decay);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch p = load(a.param + i);
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    if constexpr (WeightDecay) g = g + weight_decay * p;
    p = p * decay_factor;
    p = p + neg_eta * g;
    p.store_aligned(a.param + i);
    if constexpr (Average) {
      const Batch ax = load(a.ax + i);
      (ax + (p - ax) * mu).store_aligned(a.ax + i);
    } else {
      p.store_aligned(a.ax + i);
    }
  }
}

}  // namespace

void asgd(const AsgdArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx, auto wd, auto avg) { asgd_loop<mx, wd, avg>(a, begin, end); }, a.maximize,
             a.weight_decay != 0.0f, a.mu != 1.0f);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
