#include "simdoptim/sgd.hpp"

#include "kernels/sgd_kernel.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions SGDOptions::to_group_options() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"dampening", dampening},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

SGD::SGD(SGDOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

SGD::SGD(std::vector<ParamSpec> params, SGDOptions options, RuntimeOptions runtime)
    : SGD(options, runtime) {
  add_param_group(std::move(params));
}

void SGD::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_non_negative(o, "momentum");
  detail::require_non_negative(o, "dampening");
  detail::require_non_negative(o, "weight_decay");
  detail::require_flag(o, "nesterov");
  detail::require_flag(o, "maximize");
  if (o.flag("nesterov") && (o.get("momentum") <= 0.0 || o.get("dampening") != 0.0))
    detail::invalid_option("nesterov", 1.0, "requires momentum > 0 and dampening == 0");
}

void SGD::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double momentum = o.get("momentum");
  detail::SgdArgs base;
  base.param = group.param_arena().data();
  base.grad = group.grad_arena().data();
  base.momentum_buffer = momentum != 0.0 ? group.ensure_state_arena("momentum_buffer") : nullptr;
  base.neg_lr = static_cast<float>(-o.get("lr"));
  base.momentum = static_cast<float>(momentum);
  base.one_minus_dampening = static_cast<float>(1.0 - o.get("dampening"));
  base.weight_decay = static_cast<float>(o.get("weight_decay"));
  base.maximize = o.flag("maximize");
  base.nesterov = o.flag("nesterov");

  auto states = group.tensor_states();
  static thread_local detail::StepPlan<detail::SgdArgs> plan;
  plan.clear();
  // A tensor without a momentum buffer yet starts it as a copy of its gradient (torch).
  auto has_buffer = [&](std::size_t i) { return states[i].initialized; };
  detail::for_each_segment(group, has_buffer, [&](const detail::Segment& s) {
    detail::SgdArgs args = base;
    args.first_step = base.momentum_buffer != nullptr && !states[s.first].initialized;
    for (std::size_t i = s.first; i < s.last; ++i) {
      ++states[i].step;
      if (base.momentum_buffer != nullptr) states[i].initialized = true;
    }
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::sgd_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
