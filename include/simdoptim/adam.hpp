#pragma once
/// Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// Adam options with torch's defaults.
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool amsgrad = false;
  bool maximize = false;
  /// As a group dict: lr, beta1, beta2, eps, weight_decay, amsgrad, maximize.
  GroupOptions to_group_options() const;
};

/// AdamW options with torch's defaults: Adam's, but weight_decay = 1e-2. A type of its own, so
/// that `AdamW(AdamWOptions{.lr = 1e-3})` keeps torch's weight decay (an AdamOptions would
/// silently bring Adam's 0).
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
  /// As a group dict: lr, beta1, beta2, eps, weight_decay, amsgrad, maximize.
  GroupOptions to_group_options() const;
};

/// AdamW defaults (weight_decay = 1e-2, as torch).
inline AdamWOptions adamw_defaults() {
  return {};
}

/// torch.optim.Adam (1.13 semantics, L2 weight decay). Per element, at step t:
///   g = (maximize ? -grad : grad) + weight_decay * p
///   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
///   vmax = max(vmax, v) when amsgrad
///   p -= (lr / (1 - beta1^t)) * m / (sqrt(v or vmax) / sqrt(1 - beta2^t) + eps)
/// State: exp_avg, exp_avg_sq, max_exp_avg_sq (amsgrad).
class Adam final : public ElementwiseOptimizer {
 public:
  explicit Adam(std::vector<ParamSpec> params, AdamOptions options = {},
                RuntimeOptions runtime = {});
  explicit Adam(AdamOptions options = {}, RuntimeOptions runtime = {});
};

/// torch.optim.AdamW: Adam with decoupled weight decay, p *= 1 - lr * weight_decay before the
/// Adam update (which then has no L2 term).
class AdamW final : public ElementwiseOptimizer {
 public:
  explicit AdamW(std::vector<ParamSpec> params, AdamWOptions options = {},
                 RuntimeOptions runtime = {});
  explicit AdamW(AdamWOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
