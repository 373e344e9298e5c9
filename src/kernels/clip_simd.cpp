// Gradient clipping, one build per instruction set (see kernels/simd.hpp).
#include "kernels/clip_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {

void clip_scale(const ClipScaleArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch factor(a.factor);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth)
    (load(a.x + i) * factor).store_aligned(a.x + i);
}

void clip_clamp(const ClipClampArgs& a, std::size_t begin, std::size_t end) noexcept {
  const Batch lo(a.lo), hi(a.hi);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch x = load(a.x + i);
    // Comparisons, not the hardware min/max, whose NaN rules differ from the reference.
    const Batch raised = xsimd::select(x > lo, x, lo);
    const Batch clamped = xsimd::select(raised < hi, raised, hi);
    xsimd::select(xsimd::isnan(x), x, clamped).store_aligned(a.x + i);
  }
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
