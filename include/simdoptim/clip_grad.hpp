#pragma once
/// Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_, over the present
/// gradients of a whole optimizer or of one param group.
#include <span>

#include "simdoptim/optimizer.hpp"
#include "simdoptim/param_group.hpp"

namespace simdoptim {
inline namespace v1 {

/// torch.nn.utils.clip_grad_norm_ (1.13) over every present gradient (torch skips `grad is
/// None`) of every group. With total_norm the norm of the per-tensor norms:
///   clip_coef = max_norm / (total_norm + 1e-6), clamped to at most 1 (float32, as torch)
///   every present gradient *= clip_coef (skipped when clip_coef == 1, which changes no bit)
/// Returns total_norm rounded to float32 (torch returns a float32 tensor), or 0 when no gradient
/// is present.
///
/// `norm_type`: 2 (default), +infinity (max |g|), or any p > 0. p = 2 is sqrt of the sum of the
/// per-tensor sums of squares, in double, combined in group then tensor order over the
/// deterministic parallel reduction (the same bits at any thread count and instruction set);
/// inf is the max of the per-tensor max |g| (NaN if any is NaN). Other p use a plain
/// single-threaded loop in double: (sum_t (sum_i |g_i|^p)^(1/p)^p)^(1/p).
/// Matches torch to float32 rounding (torch accumulates in float32; see tests).
///
/// bf16 and fp16 gradients (StorageOptions::grad): the norm of their values widened to float32
/// (the same bits as float32 gradients holding those values; torch would round each tensor's
/// norm and the total to the gradients' dtype), and each is scaled as torch's g.mul_(clip_coef)
/// on a 16-bit tensor: clip_coef rounded to the gradients' format, the product rounded to
/// nearest-even.
///
/// With `error_if_nonfinite`, a NaN or infinite total norm throws std::runtime_error before any
/// gradient changes. Throws std::invalid_argument on norm_type <= 0 or NaN. A finite total norm
/// and clip coefficient are recorded with Optimizer::note_grads_finite(), so a following step()
/// in skip_if_nonfinite mode needs no pass of its own.
double clip_grad_norm_(Optimizer& optimizer, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);
/// clip_grad_norm_ over the present gradients of `group` (of `optimizer`) only.
double clip_grad_norm_(Optimizer& optimizer, ParamGroup& group, double max_norm,
                       double norm_type = 2.0, bool error_if_nonfinite = false);

/// What clip_grad_norm_ over every group computes before it scales: the total norm (float32
/// rounded, as returned) and the clamped float32 coefficient it would multiply the gradients by
/// (1: it would leave them alone).
struct ClipGradNorm {
  double total_norm = 0.0;
  float clip_coef = 1.0f;
};
/// clip_grad_norm_ over every group without the scaling: for a caller that applies the
/// coefficient in its next step, step({.external = ..., .scale = clip_coef}), as the Python
/// drop-in does. Notes finite gradients (Optimizer::note_grads_finite) as clip_grad_norm_ does.
/// `external` as in clip_grad_norm_and_step.
ClipGradNorm compute_clip_grad_norm(Optimizer& optimizer, double max_norm, double norm_type = 2.0,
                                    bool error_if_nonfinite = false,
                                    std::span<const float* const> external = {});

/// clip_grad_norm_ over every group followed by step(), fused: the norm is one read of the
/// gradients, and the step reads each gradient as g * clip_coef (Optimizer::StepGrads::scale)
/// instead of a pass that scales them in place, so the gradients are not modified. Bitwise equal
/// to clip_grad_norm_(optimizer, ...) then step() (the same float coefficient multiplies each
/// gradient, rounded the same way), on every instruction set and thread count, and with the
/// same skip_if_nonfinite behaviour. `external` names gradients in the engine's buffers, as
/// StepGrads::external (empty: the arenas'). Returns the total norm as clip_grad_norm_ does.
/// No torch equivalent (torch clips, then steps).
double clip_grad_norm_and_step(Optimizer& optimizer, double max_norm, double norm_type = 2.0,
                               bool error_if_nonfinite = false,
                               std::span<const float* const> external = {});

/// torch.nn.utils.clip_grad_value_: every present gradient element x becomes
/// min(max(x, -clip_value), clip_value) as torch's clamp_ (float32 bounds; NaN stays NaN; a
/// signed zero equal to a bound stays as it is; with clip_value < 0 every element becomes
/// clip_value). bf16 and fp16 gradients are clamped at the bounds rounded to their format
/// (double -> float32 -> 16 bits, as torch 1.13's bf16 clamp_), so every result is exact; a
/// NaN keeps its sign and payload (torch's own bits vary with its code path). Throws
/// std::invalid_argument on a NaN clip_value.
void clip_grad_value_(Optimizer& optimizer, double clip_value);
/// clip_grad_value_ over the present gradients of `group` (of `optimizer`) only.
void clip_grad_value_(Optimizer& optimizer, ParamGroup& group, double clip_value);

}  // namespace v1
}  // namespace simdoptim
