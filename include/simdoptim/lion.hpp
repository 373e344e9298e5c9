#pragma once
/// Lion (EvoLved Sign Momentum), as in Chen et al. 2023 and timm / optax.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// Lion options with timm's defaults (timm.optim.Lion, optax.lion).
struct LionOptions {
  double lr = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double weight_decay = 0.0;
  bool maximize = false;
  /// As a group dict: lr, beta1, beta2, weight_decay, maximize.
  GroupOptions to_group_options() const;
};

/// Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms", Program 1; timm's
/// `Lion`, optax's `lion`). Per element, with g = maximize ? -grad : grad:
///   p *= 1 - lr * weight_decay                       (decoupled decay)
///   p -= lr * sign(beta1 * m + (1 - beta1) * g)      (sign(0) = 0, sign(NaN) = NaN)
///   m  = beta2 * m + (1 - beta2) * g
/// State: exp_avg. Not in torch.
class Lion final : public ElementwiseOptimizer {
 public:
  explicit Lion(std::vector<ParamSpec> params, LionOptions options = {},
                RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Lion(LionOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
