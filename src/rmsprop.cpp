#include "simdoptim/rmsprop.hpp"

#include "kernels/rmsprop_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions RMSpropOptions::to_group_options() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"alpha", alpha},
          {"eps", eps},
          {"centered", centered ? 1.0 : 0.0},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

RMSprop::RMSprop(RMSpropOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

RMSprop::RMSprop(std::vector<ParamSpec> params, RMSpropOptions options, RuntimeOptions runtime)
    : RMSprop(options, runtime) {
  add_param_group(std::move(params));
}

void RMSprop::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_non_negative(o, "eps");
  detail::require_non_negative(o, "momentum");
  detail::require_non_negative(o, "weight_decay");
  detail::require_non_negative(o, "alpha");
  detail::require_flag(o, "centered");
  detail::require_flag(o, "maximize");
}

void RMSprop::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double alpha = o.get("alpha");
  detail::RmspropArgs args;
  args.param = group.param_arena().data();
  args.grad = group.grad_arena().data();
  args.square_avg = group.ensure_state_arena("square_avg");
  args.momentum_buffer =
      o.get("momentum") > 0.0 ? group.ensure_state_arena("momentum_buffer") : nullptr;
  args.grad_avg = o.flag("centered") ? group.ensure_state_arena("grad_avg") : nullptr;
  args.neg_lr = detail::f32(-o.get("lr"));
  args.alpha = detail::f32(alpha);
  args.one_minus_alpha = detail::f32(1.0 - alpha);
  args.eps = detail::f32(o.get("eps"));
  args.momentum = detail::f32(o.get("momentum"));
  args.weight_decay = detail::f32(o.get("weight_decay"));
  args.maximize = o.flag("maximize");

  detail::step_every_segment(group, args, executor(), detail::rmsprop_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
