#pragma once
/// LAMB (layer-wise adaptive moments), as in You et al. 2019 and timm's `Lamb`.
#include <memory>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// LAMB options with timm's defaults (timm.optim.Lamb).
struct LambOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-6;
  double weight_decay = 0.01;
  bool bias_correction = true;
  /// m takes (1 - beta1) * g when true, g when false.
  bool grad_averaging = true;
  /// Global gradient-norm clipping before the step; 0 turns it off (timm: None). The norm is
  /// over the gradients of all groups together, as timm's; each group divides its gradients by
  /// max(1, norm / its own max_grad_norm). timm reads only the optimizer's default; here a group
  /// override counts for that group, so groups that all keep the default behave exactly as timm.
  double max_grad_norm = 1.0;
  /// Clamp the trust ratio to at most 1.
  bool trust_clip = false;
  /// Apply the trust ratio even when weight_decay == 0 (timm: without it, weight_decay = 0
  /// turns the trust ratio off).
  bool always_adapt = false;
  /// As a group dict: lr, beta1, beta2, eps, weight_decay, bias_correction, grad_averaging,
  /// max_grad_norm, trust_clip, always_adapt.
  GroupOptions to_group_options() const;
};

/// LAMB (You et al. 2019, "Large Batch Optimization for Deep Learning: Training BERT in 76
/// minutes", Algorithm 2) as timm.optim.Lamb computes it, options and defaults included. With
/// c = ||all gradients of all groups|| / max_grad_norm (the group's) when that exceeds 1 (else 1,
/// and 1 when max_grad_norm is 0), per tensor at its step t, g = grad / c:
///   m = beta1 * m + (grad_averaging ? 1 - beta1 : 1) * g;  v = beta2 * v + (1 - beta2) * g * g
///   u = (m / bc1) / (sqrt(v) / sqrt(bc2) + eps) + weight_decay * p
///       (bc = 1 - beta^t, or 1 without bias_correction)
///   r = ||p|| / ||u|| when both are > 0, else 1; r = min(r, 1) with trust_clip
///   p -= lr * r * u
/// timm's variant, not the paper's: the trust ratio is applied only when weight_decay != 0 or
/// always_adapt. With weight_decay = 0 and always_adapt off there is no trust ratio at all
/// (r = 1): the step is Adam's (after the global gradient clipping), nothing layer-wise.
/// The paper's phi (a clamp of ||p||) is the identity here, as in timm.
/// State: exp_avg, exp_avg_sq. u lives in a scratch buffer the optimizer owns (sized for the
/// largest group), not in the state. Not in torch.
class Lamb final : public Optimizer {
 public:
  explicit Lamb(std::vector<ParamSpec> params, LambOptions options = {},
                RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Lamb(LambOptions options = {}, RuntimeOptions runtime = {});
  ~Lamb() override;
  std::string_view name() const noexcept override { return "lamb"; }
  void validate(const GroupOptions& options) const override;

 private:
  void step_group(ParamGroup& group) override;
  // ||all gradients|| of this step, computed when the first group with a gradient steps (0 when
  // no group clips).
  double global_grad_norm();
  double grad_norm_ = 0.0;
  // The update u and the buffers of the passes, reused from step to step.
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace v1
}  // namespace simdoptim
