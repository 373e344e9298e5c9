#include "simdoptim/rprop.hpp"

#include "kernels/rprop_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions RpropOptions::to_group_options() const {
  return {{"lr", lr},
          {"etaminus", etaminus},
          {"etaplus", etaplus},
          {"step_size_min", step_size_min},
          {"step_size_max", step_size_max},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Rprop::Rprop(RpropOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

Rprop::Rprop(std::vector<ParamSpec> params, RpropOptions options, RuntimeOptions runtime)
    : Rprop(options, runtime) {
  add_param_group(std::move(params));
}

void Rprop::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  const double minus = o.get("etaminus");
  const double plus = o.get("etaplus");
  if (!(0.0 < minus && minus < 1.0))
    detail::invalid_option("etaminus", minus, "need 0 < etaminus < 1 < etaplus");
  if (!(1.0 < plus)) detail::invalid_option("etaplus", plus, "need 0 < etaminus < 1 < etaplus");
  // torch does not check step_sizes; a NaN bound would only poison every step size.
  for (const char* key : {"step_size_min", "step_size_max"}) {
    const double v = o.get(key);
    if (v != v) detail::invalid_option(key, v, "must be a number");
  }
  detail::require_flag(o, "maximize");
}

void Rprop::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  detail::RpropArgs args;
  args.param = group.param_arena().data();
  args.grad = group.grad_arena().data();
  args.prev = group.ensure_state_arena("prev");
  args.step_size = group.ensure_state_arena("step_size");
  args.etaminus = detail::f32(o.get("etaminus"));
  args.etaplus = detail::f32(o.get("etaplus"));
  args.step_size_min = detail::f32(o.get("step_size_min"));
  args.step_size_max = detail::f32(o.get("step_size_max"));
  args.maximize = o.flag("maximize");

  // A tensor's step sizes start at the lr of its group when it first steps (torch).
  const auto states = group.tensor_states();
  for (std::size_t i = 0; i < group.size(); ++i)
    if (states[i].has_grad && !states[i].initialized)
      detail::fill_tensor(group, args.step_size, i, detail::f32(o.get("lr")));

  detail::step_every_segment(group, args, executor(), detail::rprop_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
