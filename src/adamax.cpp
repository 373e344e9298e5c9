#include "simdoptim/adamax.hpp"

#include <cmath>

#include "kernels/adamax_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions AdamaxOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adamax::Adamax(AdamaxOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

Adamax::Adamax(std::vector<ParamSpec> params, AdamaxOptions options, RuntimeOptions runtime)
    : Adamax(options, runtime) {
  add_param_group(std::move(params));
}

void Adamax::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_non_negative(o, "eps");
  detail::require_in_range(o, "beta1", 0.0, 1.0);
  detail::require_in_range(o, "beta2", 0.0, 1.0);
  detail::require_non_negative(o, "weight_decay");
  detail::require_flag(o, "maximize");
}

void Adamax::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double beta1 = o.get("beta1");
  detail::AdamaxArgs base;
  base.param = group.param_arena().data();
  base.grad = group.grad_arena().data();
  base.exp_avg = group.ensure_state_arena("exp_avg");
  base.exp_inf = group.ensure_state_arena("exp_inf");
  base.beta1 = detail::f32(beta1);
  base.one_minus_beta1 = detail::f32(1.0 - beta1);
  base.beta2 = detail::f32(o.get("beta2"));
  base.eps = detail::f32(o.get("eps"));
  base.weight_decay = detail::f32(o.get("weight_decay"));
  base.maximize = o.flag("maximize");

  const auto states = group.tensor_states();
  static thread_local detail::StepPlan<detail::AdamaxArgs> plan;
  plan.clear();
  // Tensors skipped on earlier steps have other step counts, hence other bias corrections.
  auto step_of = [&](std::size_t i) { return states[i].step; };
  detail::for_each_segment(group, step_of, [&](const detail::Segment& s) {
    const auto t = static_cast<double>(detail::advance_step(group, s));
    detail::AdamaxArgs args = base;
    args.neg_clr = detail::f32(-(lr / (1.0 - std::pow(beta1, t))));
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::adamax_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
