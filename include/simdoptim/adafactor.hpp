#pragma once
/// Adafactor, as torch.optim.Adafactor (torch 2.5+).
#include <cstddef>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// Adafactor options with torch 2.5's defaults. torch's `eps=(None, 1e-3)` is `eps1`/`eps2`;
/// None (the default) means float32's machine epsilon, 2^-23, which is what torch resolves it
/// to for float32 parameters. `foreach` selects an implementation in torch; there is one here.
struct AdafactorOptions {
  double lr = 1e-2;
  double beta2_decay = -0.8;
  double eps1 = 1.1920928955078125e-07;
  double eps2 = 1e-3;
  double d = 1.0;
  double weight_decay = 0.0;
  bool maximize = false;
  /// As a group dict: lr, beta2_decay, eps1, eps2, d, weight_decay, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.Adafactor (torch 2.5; Shazeer & Stern 2018 with torch's use of lr and eps1).
/// Per tensor at its step t, with g = maximize ? -grad : grad:
///   w = t^beta2_decay;  rho = min(lr, 1 / sqrt(t));  alpha = max(eps2, RMS(p)) * rho
///   p *= 1 - lr * weight_decay
///   tensors of 2 or more dimensions, viewed as slices of R x C matrices (C the last dimension):
///     row_var = lerp(row_var, mean(g^2 over the last dimension), w)       (one per row)
///     col_var = lerp(col_var, mean(g^2 over dimension -2), w)             (one per slice column)
///     V = row_var * col_var / max(mean(row_var over the slice), eps1)
///   other tensors: variance = lerp(variance, g^2, w);  V = variance
///   U = g / sqrt(max(V, eps1^2));  p -= alpha / max(1, RMS(U) / d) * U
/// lerp is torch's: a + w (b - a) for |w| < 0.5, else b - (b - a)(1 - w).
/// This is torch 2.5's formula, not the one of Hugging Face's or fairseq's Adafactor: there are
/// no relative_step, scale_parameter or warmup_init switches (the step size is always
/// min(lr, 1 / sqrt(t)) * max(eps2, RMS(p)), theirs with relative_step and scale_parameter on,
/// warmup_init off and lr in place of 1e-2), no first moment (beta1), and eps1 bounds V
/// (max(V, eps1^2)) and the row mean instead of being added to g^2 (theirs: g^2 + 1e-30).
/// d is their clip_threshold, beta2_decay their decay_rate.
/// The factored statistics live outside the arenas (that is Adafactor's memory saving); read them
/// with factored_state(). Row and column sums use a fixed blocking (see
/// src/kernels/adafactor_kernel.hpp), so they are identical on every build and thread count.
class Adafactor final : public Optimizer {
 public:
  explicit Adafactor(std::vector<ParamSpec> params, AdafactorOptions options = {},
                     RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Adafactor(AdafactorOptions options = {}, RuntimeOptions runtime = {});
  ~Adafactor() override;
  std::string_view name() const noexcept override { return "adafactor"; }
  void validate(const GroupOptions& options) const override;

  /// State array `name` of tensor `tensor` in group `group` (torch: state[p][name]): "row_var"
  /// (one value per row, row-major over the leading dimensions) and "col_var" (one per column
  /// per slice) for tensors of 2 or more dimensions, "variance" (one per element) for the
  /// others. Throws std::out_of_range when the tensor has no such state yet.
  std::span<const float> factored_state(std::size_t group, std::size_t tensor,
                                        std::string_view name) const;
  /// Checkpoint hook (Optimizer::side_arrays): the arrays factored_state() names.
  std::vector<SideArray> side_arrays(std::size_t group, std::size_t tensor) override;

 private:
  struct GroupState;
  void step_group(ParamGroup& group) override;
  GroupState& group_state(ParamGroup& group);
  std::vector<std::unique_ptr<GroupState>> states_;  // by group index
};

}  // namespace v1
}  // namespace simdoptim
