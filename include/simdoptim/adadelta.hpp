#pragma once
/// Adadelta, as torch.optim.Adadelta.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// Adadelta options with torch's defaults.
struct AdadeltaOptions {
  double lr = 1.0;
  double rho = 0.9;
  double eps = 1e-6;
  double weight_decay = 0.0;
  bool maximize = false;
  /// As a group dict: lr, rho, eps, weight_decay, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.Adadelta (1.13 semantics). Per element:
///   g = (maximize ? -grad : grad) + weight_decay * p
///   square_avg = rho * square_avg + (1 - rho) * g * g
///   delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * g
///   acc_delta = rho * acc_delta + (1 - rho) * delta * delta
///   p -= lr * delta
/// State: square_avg, acc_delta.
class Adadelta final : public ElementwiseOptimizer {
 public:
  explicit Adadelta(std::vector<ParamSpec> params, AdadeltaOptions options = {},
                    RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Adadelta(AdadeltaOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
