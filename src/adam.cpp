#include "simdoptim/adam.hpp"

#include <cmath>

#include "kernels/adam_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions AdamOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"amsgrad", amsgrad ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adam::Adam(bool decoupled, std::vector<ParamSpec> params, AdamOptions options,
           RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime), decoupled_(decoupled) {
  validate(defaults());
  if (!params.empty()) add_param_group(std::move(params));
}

Adam::Adam(std::vector<ParamSpec> params, AdamOptions options, RuntimeOptions runtime)
    : Adam(false, std::move(params), options, runtime) {}

Adam::Adam(AdamOptions options, RuntimeOptions runtime) : Adam(false, {}, options, runtime) {}

AdamW::AdamW(std::vector<ParamSpec> params, AdamOptions options, RuntimeOptions runtime)
    : Adam(true, std::move(params), options, runtime) {}

AdamW::AdamW(AdamOptions options, RuntimeOptions runtime) : Adam(true, {}, options, runtime) {}

void Adam::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_non_negative(o, "eps");
  detail::require_in_range(o, "beta1", 0.0, 1.0);
  detail::require_in_range(o, "beta2", 0.0, 1.0);
  detail::require_non_negative(o, "weight_decay");
  detail::require_flag(o, "amsgrad");
  detail::require_flag(o, "maximize");
}

void Adam::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double beta1 = o.get("beta1");
  const double beta2 = o.get("beta2");
  const double weight_decay = o.get("weight_decay");
  detail::AdamArgs base;
  base.param = group.param_arena().data();
  base.grad = group.grad_arena().data();
  base.exp_avg = group.ensure_state_arena("exp_avg");
  base.exp_avg_sq = group.ensure_state_arena("exp_avg_sq");
  base.max_exp_avg_sq = o.flag("amsgrad") ? group.ensure_state_arena("max_exp_avg_sq") : nullptr;
  base.beta1 = static_cast<float>(beta1);
  base.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  base.beta2 = static_cast<float>(beta2);
  base.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  base.eps = static_cast<float>(o.get("eps"));
  base.maximize = o.flag("maximize");
  if (weight_decay != 0.0) {
    if (decoupled_)
      base.decay_factor = static_cast<float>(1.0 - lr * weight_decay);
    else
      base.weight_decay = static_cast<float>(weight_decay);
  }

  auto states = group.tensor_states();
  static thread_local detail::StepPlan<detail::AdamArgs> plan;
  plan.clear();
  // Tensors skipped on earlier steps have other step counts, hence other bias corrections.
  auto step_of = [&](std::size_t i) { return states[i].step; };
  detail::for_each_segment(group, step_of, [&](const detail::Segment& s) {
    const std::int64_t t = detail::advance_step(group, s);
    const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(t));
    const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(t));
    detail::AdamArgs args = base;
    args.neg_step_size = static_cast<float>(-(lr / bias_correction1));
    args.inv_bias_correction2_sqrt = static_cast<float>(1.0 / std::sqrt(bias_correction2));
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::adam_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
