#include "simdoptim/lion.hpp"

#include "kernels/lion_kernel.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions LionOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Lion::Lion(LionOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

Lion::Lion(std::vector<ParamSpec> params, LionOptions options, RuntimeOptions runtime)
    : Lion(options, runtime) {
  add_param_group(std::move(params));
}

void Lion::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_in_range(o, "beta1", 0.0, 1.0);
  detail::require_in_range(o, "beta2", 0.0, 1.0);
  detail::require_non_negative(o, "weight_decay");
  detail::require_flag(o, "maximize");
}

void Lion::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double beta1 = o.get("beta1");
  const double beta2 = o.get("beta2");
  detail::LionArgs args;
  args.param = group.param_arena().data();
  args.grad = group.grad_arena().data();
  args.exp_avg = group.ensure_state_arena("exp_avg");
  args.neg_lr = static_cast<float>(-lr);
  args.beta1 = static_cast<float>(beta1);
  args.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  args.beta2 = static_cast<float>(beta2);
  args.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  args.decay_factor = static_cast<float>(1.0 - lr * o.get("weight_decay"));
  args.maximize = o.flag("maximize");

  auto states = group.tensor_states();
  static thread_local detail::StepPlan<detail::LionArgs> plan;
  plan.clear();
  // No per-step scalar depends on the step count: every run of tensors with a gradient is one call.
  detail::for_each_segment(
      group, [](std::size_t) { return 0; },
      [&](const detail::Segment& s) {
        for (std::size_t i = s.first; i < s.last; ++i) {
          ++states[i].step;
          states[i].initialized = true;
        }
        plan.add(args, s.begin, s.end);
      });
  plan.run(executor(), detail::lion_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
