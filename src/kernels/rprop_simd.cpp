// Rprop, one build per instruction set (see kernels/simd.hpp). The per-element sign logic is
// branch-free: comparisons and selects, with NaN falling through every comparison as in the
// scalar reference.
#include "kernels/rprop_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

template <bool Maximize>
void rprop_loop(const RpropArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch etaminus(a.etaminus), etaplus(a.etaplus), lo(a.step_size_min), hi(a.step_size_max),
      zero(0.0f), one(1.0f), minus_one(-1.0f), minus_zero(-0.0f);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    Batch g = load(a.grad + i);
    if constexpr (Maximize) g = negate(g);
    const Batch s = g * load(a.prev + i);
    const Batch factor = xsimd::select(s > zero, etaplus, xsimd::select(s < zero, etaminus, one));
    Batch step = load(a.step_size + i) * factor;
    step = xsimd::select(step < lo, lo, step);
    step = xsimd::select(step > hi, hi, step);
    g = xsimd::select(s < zero, zero, g);
    const Batch neg_sign =
        xsimd::select(g > zero, minus_one, xsimd::select(g < zero, one, minus_zero));
    step.store_aligned(a.step_size + i);
    g.store_aligned(a.prev + i);
    (load(a.param + i) + neg_sign * step).store_aligned(a.param + i);
  }
}

}  // namespace

void rprop(const RpropArgs& a, std::size_t begin, std::size_t end) noexcept {
  with_bools([&](auto mx) { rprop_loop<mx>(a, begin, end); }, a.maximize);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
