#pragma once
// Gradient clipping (include/simdoptim/clip_grad.hpp): scaling by the clip coefficient and
// clamping to [-clip_value, clip_value], in place.
#include <cstdint>

#include "kernels/kernel.hpp"
#include "kernels/storage_format.hpp"

namespace simdoptim::detail {

struct ClipScaleArgs {
  float* x = nullptr;
  float factor = 1;
  // Set instead of x: 16-bit elements of format16, each stored back as x * factor rounded to
  // nearest-even (factor already rounded to format16 by the caller, as torch's mul_ does).
  std::uint16_t* x16 = nullptr;
  Storage format16 = Storage::bf16;
};

struct ClipClampArgs {
  float* x = nullptr;
  float lo = 0;
  float hi = 0;
  // Set instead of x: 16-bit elements of format16 (lo and hi already rounded to format16 by the
  // caller, as torch's clamp_ does, so every result is exact in the format).
  std::uint16_t* x16 = nullptr;
  Storage format16 = Storage::bf16;
};

// x[i] = x[i] * factor (torch: g.mul_(clip_coef)).
SIMDOPTIM_DECLARE_KERNEL(clip_scale, ClipScaleArgs)
// x[i] = min(max(x[i], lo), hi) as torch's g.clamp_(min=lo, max=hi): std::max then std::min,
// so NaN stays NaN, a tie between signed zeros keeps x, and with lo > hi the result is hi.
SIMDOPTIM_DECLARE_KERNEL(clip_clamp, ClipClampArgs)

}  // namespace simdoptim::detail
