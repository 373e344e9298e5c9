#pragma once
/// RAdam, as torch.optim.RAdam.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// RAdam options with torch's defaults. `decoupled_weight_decay` is torch 2.x's option.
struct RAdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled_weight_decay = false;
  /// As a group dict: lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay.
  GroupOptions to_group_options() const;
};

/// torch.optim.RAdam (1.13 semantics, plus torch 2.x's decoupled_weight_decay). Per tensor at
/// step t, in double: rho_inf = 2 / (1 - beta2) - 1,
/// rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t); per element:
///   decoupled_weight_decay ? p *= 1 - lr * weight_decay : g += weight_decay * p
///   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
///   if rho_t > 5: r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
///                 p -= lr * r * sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + eps)
///   else:         p -= lr / (1 - beta1^t) * m
/// State: exp_avg, exp_avg_sq.
class RAdam final : public ElementwiseOptimizer {
 public:
  explicit RAdam(std::vector<ParamSpec> params, RAdamOptions options = {},
                 RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit RAdam(RAdamOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
