#pragma once
/// Adagrad, as torch.optim.Adagrad.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// Adagrad options with torch's defaults.
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0.0;
  double weight_decay = 0.0;
  double initial_accumulator_value = 0.0;
  double eps = 1e-10;
  bool maximize = false;
  /// As a group dict: lr, lr_decay, eps, weight_decay, initial_accumulator_value, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.Adagrad (1.13 semantics, dense gradients). Per element, at step t:
///   g = (maximize ? -grad : grad) + weight_decay * p
///   sum += g * g
///   p -= (lr / (1 + (t - 1) * lr_decay)) * g / (sqrt(sum) + eps)
/// State: sum, which starts at initial_accumulator_value for every tensor of the group when the
/// group first steps (torch fills it at construction, with the constructor's value for every
/// group; here each group uses its own initial_accumulator_value).
class Adagrad final : public ElementwiseOptimizer {
 public:
  explicit Adagrad(std::vector<ParamSpec> params, AdagradOptions options = {},
                   RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Adagrad(AdagradOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
