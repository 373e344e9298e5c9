#pragma once
// Host side of kernels/adam_moments.hpp, shared by NAdam and RAdam: their common options
// (lr, beta1, beta2, eps, weight_decay, decoupled_weight_decay), checked and turned into
// kernel arguments.
#include "kernels/adam_moments.hpp"
#include "per_tensor_state.hpp"
#include "simdoptim/param_group.hpp"
#include "validate_options.hpp"

namespace simdoptim::detail {

// torch's checks of these options (NaN fails).
inline void validate_adam_moment_options(const GroupOptions& o) {
  require_non_negative(o, "lr");
  require_non_negative(o, "eps");
  require_in_range(o, "beta1", 0.0, 1.0);
  require_in_range(o, "beta2", 0.0, 1.0);
  require_non_negative(o, "weight_decay");
  require_flag(o, "decoupled_weight_decay");
}

// The arrays (created on first use) and coefficients of `group`.
inline void set_adam_moment_args(AdamMomentArgs& a, ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double beta1 = o.get("beta1");
  const double beta2 = o.get("beta2");
  const double weight_decay = o.get("weight_decay");
  a.param = group.param_arena().data();
  a.grad = group.grad_arena().data();
  a.exp_avg = group.ensure_state_arena("exp_avg");
  a.exp_avg_sq = group.ensure_state_arena("exp_avg_sq");
  a.beta1 = f32(beta1);
  a.one_minus_beta1 = f32(1.0 - beta1);
  a.beta2 = f32(beta2);
  a.one_minus_beta2 = f32(1.0 - beta2);
  a.eps = f32(o.get("eps"));
  if (weight_decay != 0.0) {
    if (o.flag("decoupled_weight_decay"))
      a.decay_factor = f32(1.0 - o.get("lr") * weight_decay);
    else
      a.weight_decay = f32(weight_decay);
  }
}

}  // namespace simdoptim::detail
