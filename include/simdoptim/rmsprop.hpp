#pragma once
/// RMSprop, as torch.optim.RMSprop.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// RMSprop options with torch's defaults.
struct RMSpropOptions {
  double lr = 1e-2;
  double momentum = 0.0;
  double alpha = 0.99;
  double eps = 1e-8;
  bool centered = false;
  double weight_decay = 0.0;
  bool maximize = false;
  /// As a group dict: lr, momentum, alpha, eps, centered, weight_decay, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.RMSprop (1.13 semantics). Per element, with g = maximize ? -grad : grad:
///   g += weight_decay * p
///   square_avg = alpha * square_avg + (1 - alpha) * g * g
///   if centered: grad_avg = alpha * grad_avg + (1 - alpha) * g
///                avg = sqrt(square_avg - grad_avg^2) + eps
///   else:        avg = sqrt(square_avg) + eps
///   if momentum > 0: buf = momentum * buf + g / avg;  p -= lr * buf
///   else:            p -= lr * g / avg
/// State: square_avg, momentum_buffer (momentum > 0), grad_avg (centered).
class RMSprop final : public ElementwiseOptimizer {
 public:
  explicit RMSprop(std::vector<ParamSpec> params, RMSpropOptions options = {},
                   RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit RMSprop(RMSpropOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
