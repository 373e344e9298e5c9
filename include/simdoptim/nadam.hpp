#pragma once
/// NAdam, as torch.optim.NAdam.
#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// NAdam options with torch's defaults. `decoupled_weight_decay` is torch 2.x's option.
struct NAdamOptions {
  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double momentum_decay = 4e-3;
  bool decoupled_weight_decay = false;
  /// As a group dict: lr, beta1, beta2, eps, weight_decay, momentum_decay,
  /// decoupled_weight_decay.
  GroupOptions to_group_options() const;
};

/// torch.optim.NAdam (1.13 semantics). Per tensor at step t, in double:
///   mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)),  mu_{t+1} likewise
///   mu_product *= mu_t (a float32, as torch's 0-d tensor state)
///   mu_product_next = mu_product * mu_t * mu_{t+1} (float32; torch 1.13's product, which
///   torch >= 2.0 changed to mu_product * mu_{t+1})
/// and per element:
///   decoupled_weight_decay ? p *= 1 - lr * weight_decay : g += weight_decay * p
///   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
///   denom = sqrt(v / (1 - beta2^t)) + eps
///   p -= lr * (1 - mu_t) / (1 - mu_product) * g / denom
///   p -= lr * mu_{t+1} / (1 - mu_product_next) * m / denom
/// State: exp_avg, exp_avg_sq, and mu_product per tensor (see mu_product()).
class NAdam final : public ElementwiseOptimizer {
 public:
  explicit NAdam(std::vector<ParamSpec> params, NAdamOptions options = {},
                 RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit NAdam(NAdamOptions options = {}, RuntimeOptions runtime = {});

  /// torch's state[p]['mu_product'] of tensor `tensor` of group `group` (1 before its first
  /// step).
  double mu_product(std::size_t group, std::size_t tensor) const;
};

}  // namespace v1
}  // namespace simdoptim
