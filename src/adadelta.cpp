#include "simdoptim/adadelta.hpp"

#include "kernels/adadelta_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions AdadeltaOptions::to_group_options() const {
  return {{"lr", lr},
          {"rho", rho},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adadelta::Adadelta(AdadeltaOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

Adadelta::Adadelta(std::vector<ParamSpec> params, AdadeltaOptions options, RuntimeOptions runtime)
    : Adadelta(options, runtime) {
  add_param_group(std::move(params));
}

void Adadelta::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  const double rho = o.get("rho");
  if (!(rho >= 0.0 && rho <= 1.0)) detail::invalid_option("rho", rho, "must be in [0, 1]");
  detail::require_non_negative(o, "eps");
  detail::require_non_negative(o, "weight_decay");
  detail::require_flag(o, "maximize");
}

void Adadelta::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double rho = o.get("rho");
  detail::AdadeltaArgs args;
  args.param = group.param_arena().data();
  args.grad = group.grad_arena().data();
  args.square_avg = group.ensure_state_arena("square_avg");
  args.acc_delta = group.ensure_state_arena("acc_delta");
  args.neg_lr = detail::f32(-o.get("lr"));
  args.rho = detail::f32(rho);
  args.one_minus_rho = detail::f32(1.0 - rho);
  args.eps = detail::f32(o.get("eps"));
  args.weight_decay = detail::f32(o.get("weight_decay"));
  args.maximize = o.flag("maximize");

  detail::step_every_segment(group, args, executor(), detail::adadelta_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
