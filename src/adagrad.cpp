#include "simdoptim/adagrad.hpp"

#include "kernels/adagrad_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions AdagradOptions::to_group_options() const {
  return {{"lr", lr},
          {"lr_decay", lr_decay},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"initial_accumulator_value", initial_accumulator_value},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adagrad::Adagrad(AdagradOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

Adagrad::Adagrad(std::vector<ParamSpec> params, AdagradOptions options, RuntimeOptions runtime)
    : Adagrad(options, runtime) {
  add_param_group(std::move(params));
}

void Adagrad::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_non_negative(o, "lr_decay");
  detail::require_non_negative(o, "weight_decay");
  detail::require_non_negative(o, "initial_accumulator_value");
  detail::require_non_negative(o, "eps");
  detail::require_flag(o, "maximize");
}

void Adagrad::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double lr_decay = o.get("lr_decay");
  detail::AdagradArgs base;
  base.param = group.param_arena().data();
  base.grad = group.grad_arena().data();
  base.sum = group.ensure_state_arena("sum");
  // torch creates every tensor's sum up front, gradient or not; here a tensor without state
  // (before the first step, or loaded from a state that had none) gets it now.
  const float init = detail::f32(o.get("initial_accumulator_value"));
  for (std::size_t i = 0; i < group.size(); ++i)
    if (!group.tensor_states()[i].initialized) {
      detail::fill_tensor(group, base.sum, i, init);
      group.tensor_states()[i].initialized = true;
    }
  base.eps = detail::f32(o.get("eps"));
  base.weight_decay = detail::f32(o.get("weight_decay"));
  base.maximize = o.flag("maximize");

  const auto states = group.tensor_states();
  static thread_local detail::StepPlan<detail::AdagradArgs> plan;
  plan.clear();
  // Tensors skipped on earlier steps have other step counts, hence another decayed lr.
  auto step_of = [&](std::size_t i) { return states[i].step; };
  detail::for_each_segment(group, step_of, [&](const detail::Segment& s) {
    const auto t = static_cast<double>(detail::advance_step(group, s));
    detail::AdagradArgs args = base;
    args.neg_clr = detail::f32(-(lr / (1.0 + (t - 1.0) * lr_decay)));
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::adagrad_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
