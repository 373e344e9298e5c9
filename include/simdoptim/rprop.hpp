#pragma once
/// Rprop, as torch.optim.Rprop.
#include <vector>

#include "simdoptim/elementwise_optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// Rprop options with torch's defaults. torch's `etas` tuple is etaminus/etaplus and its
/// `step_sizes` tuple step_size_min/step_size_max.
struct RpropOptions {
  double lr = 1e-2;
  double etaminus = 0.5;
  double etaplus = 1.2;
  double step_size_min = 1e-6;
  double step_size_max = 50.0;
  bool maximize = false;
  /// As a group dict: lr, etaminus, etaplus, step_size_min, step_size_max, maximize.
  GroupOptions to_group_options() const;
};

/// torch.optim.Rprop (1.13 semantics). step_size starts at the group's lr when a tensor first
/// steps. Per element, with g = maximize ? -grad : grad and s = g * prev:
///   step_size = clamp(step_size * (s > 0 ? etaplus : s < 0 ? etaminus : 1),
///                     step_size_min, step_size_max)
///   if s < 0: g = 0
///   p -= sign(g) * step_size;  prev = g
/// (a NaN product counts as 0, as torch.sign(NaN) = 0 on CPU). State: prev, step_size.
class Rprop final : public ElementwiseOptimizer {
 public:
  explicit Rprop(std::vector<ParamSpec> params, RpropOptions options = {},
                 RuntimeOptions runtime = {});
  /// An optimizer with no groups yet; add them with add_param_group.
  explicit Rprop(RpropOptions options = {}, RuntimeOptions runtime = {});
};

}  // namespace v1
}  // namespace simdoptim
