#pragma once
/// Averaged SGD, as torch.optim.ASGD.
#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// ASGD options with torch's defaults.
struct ASGDOptions {
  double lr = 1e-2;
  double lambd = 1e-4;
  double alpha = 0.75;
  double t0 = 1e6;
  double weight_decay = 0.0;
  bool maximize = false;
  /// As a group dict: lr, lambd, alpha, t0, weight_decay, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.ASGD (1.13 semantics). Per tensor, eta starts at the group's lr and mu at 1
/// (float32 scalars, as torch's 0-d tensor state); per element at step t:
///   g = (maximize ? -grad : grad) + weight_decay * p
///   p *= 1 - lambd * eta;  p -= eta * g
///   ax = mu != 1 ? ax + (p - ax) * mu : p
/// then eta = lr / (1 + lambd * lr * t)^alpha and mu = 1 / max(1, t - t0).
/// State: ax, and eta and mu per tensor (see eta() and mu()).
class ASGD final : public ElementwiseOptimizer {
 public:
  explicit ASGD(std::vector<ParamSpec> params, ASGDOptions options = {},
                RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit ASGD(ASGDOptions options = {}, RuntimeOptions runtime = {});

  /// torch's state[p]['eta'] of tensor `tensor` of group `group`. Throws std::out_of_range
  /// before the tensor's first step (torch has no state for it then).
  double eta(std::size_t group, std::size_t tensor) const;
  /// torch's state[p]['mu']; throws as eta().
  double mu(std::size_t group, std::size_t tensor) const;

 private:
  double stepped_scalar(std::size_t group, std::size_t tensor, std::string_view name) const;
};

}  // namespace v1
}  // namespace simdoptim
