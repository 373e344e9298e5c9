#pragma once
/// Stochastic gradient descent, as torch.optim.SGD.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// SGD options with torch's defaults (torch requires lr; 1e-3 here).
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool maximize = false;
  /// As a group dict: lr, momentum, dampening, weight_decay, nesterov, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.SGD (1.13 semantics). Per element, with g = maximize ? -grad : grad:
///   g += weight_decay * p
///   if momentum: buf = first step ? g : momentum * buf + (1 - dampening) * g
///                g = nesterov ? g + momentum * buf : buf
///   p -= lr * g
/// State: momentum_buffer (when momentum != 0).
class SGD final : public ElementwiseOptimizer {
 public:
  explicit SGD(std::vector<ParamSpec> params, SGDOptions options = {}, RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit SGD(SGDOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
