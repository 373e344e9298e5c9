#pragma once
/// Adamax, as torch.optim.Adamax.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// Adamax options with torch's defaults.
struct AdamaxOptions {
  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool maximize = false;
  /// As a group dict: lr, beta1, beta2, eps, weight_decay, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.Adamax (1.13 semantics). Per element, at step t:
///   g = (maximize ? -grad : grad) + weight_decay * p
///   m = beta1 * m + (1 - beta1) * g
///   u = max(beta2 * u, |g| + eps)   (NaN if either is NaN, as torch.amax)
///   p -= (lr / (1 - beta1^t)) * m / u
/// State: exp_avg (m), exp_inf (u).
class Adamax final : public ElementwiseOptimizer {
 public:
  explicit Adamax(std::vector<ParamSpec> params, AdamaxOptions options = {},
                  RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Adamax(AdamaxOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
