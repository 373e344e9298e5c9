#pragma once
/// LARS (layer-wise adaptive rate scaling), as in You et al. 2017 and timm's `Lars`.
#include <memory>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// LARS options with timm's defaults (timm.optim.Lars), plus `exclude_1d`. At these defaults
/// the step is plain SGD (see Lars).
struct LarsOptions {
  double lr = 1.0;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  double trust_coeff = 0.001;
  double eps = 1e-8;
  /// Use min(r / lr, 1) as the ratio (LARC-style clipping).
  bool trust_clip = false;
  /// Apply the trust ratio even when weight_decay == 0 (timm: without it, weight_decay = 0
  /// turns the trust ratio off).
  bool always_adapt = false;
  /// Tensors with at most one dimension (biases, norm scales) get neither weight decay nor the
  /// trust ratio: plain (momentum) SGD, as LARS is commonly configured (SimCLR, BYOL).
  bool exclude_1d = false;
  /// As a group dict: lr, momentum, dampening, weight_decay, nesterov, trust_coeff, eps,
  /// trust_clip, always_adapt, exclude_1d.
  GroupOptions to_group_options() const;
};

/// LARS (You et al. 2017, "Large Batch Training of Convolutional Networks", Algorithm 1) as
/// timm.optim.Lars computes it, options and defaults included. Per tensor, when
/// weight_decay != 0 or always_adapt (and the tensor is not excluded):
///   r = trust_coeff * ||p|| / (||grad|| + weight_decay * ||p|| + eps), or 1 when ||p|| or
///       ||grad|| is 0; r = min(r / lr, 1) with trust_clip
///   g = (grad + weight_decay * p) * r
/// otherwise g = grad. Then, per element, as torch.optim.SGD:
///   if momentum: buf = first step ? g : momentum * buf + (1 - dampening) * g
///                g = nesterov ? g + momentum * buf : buf
///   p -= lr * g
/// timm's variant, not the paper's: with weight_decay = 0 and always_adapt off there is no trust
/// ratio at all, so LARS at its defaults (weight_decay 0, momentum 0, lr 1) is plain SGD with
/// lr = 1; layer-wise scaling needs weight_decay != 0 or always_adapt.
/// State: momentum_buffer (when momentum != 0). Not in torch.
class Lars final : public Optimizer {
 public:
  explicit Lars(std::vector<ParamSpec> params, LarsOptions options = {},
                RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Lars(LarsOptions options = {}, RuntimeOptions runtime = {});
  ~Lars() override;
  std::string_view name() const noexcept override { return "lars"; }
  void validate(const GroupOptions& options) const override;

 private:
  void step_group(ParamGroup& group) override;
  // The buffers of a step's passes, reused from step to step.
  struct Scratch;
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace v1
}  // namespace simdoptim
