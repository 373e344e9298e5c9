#include "simdoptim/radam.hpp"

#include <cmath>

#include "adam_moment_options.hpp"
#include "kernels/radam_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions RAdamOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"decoupled_weight_decay", decoupled_weight_decay ? 1.0 : 0.0}};
}

RAdam::RAdam(RAdamOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

RAdam::RAdam(std::vector<ParamSpec> params, RAdamOptions options, RuntimeOptions runtime)
    : RAdam(options, runtime) {
  add_param_group(std::move(params));
}

void RAdam::validate(const GroupOptions& o) const {
  detail::validate_adam_moment_options(o);
}

void RAdam::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double beta1 = o.get("beta1");
  const double beta2 = o.get("beta2");
  detail::RadamArgs base;
  detail::set_adam_moment_args(base, group);

  const auto states = group.tensor_states();
  static thread_local detail::StepPlan<detail::RadamArgs> plan;
  plan.clear();
  // Tensors skipped on earlier steps have other step counts: other corrections, maybe the
  // other branch.
  auto step_of = [&](std::size_t i) { return states[i].step; };
  detail::for_each_segment(group, step_of, [&](const detail::Segment& s) {
    const auto t = static_cast<double>(detail::advance_step(group, s));
    const double bias_correction1 = 1.0 - std::pow(beta1, t);
    const double bias_correction2 = 1.0 - std::pow(beta2, t);
    const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    const double rho_t = rho_inf - 2.0 * t * std::pow(beta2, t) / bias_correction2;
    detail::RadamArgs args = base;
    args.rectified = rho_t > 5.0;
    if (args.rectified) {
      const double rect = std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                    ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
      args.neg_step_size =
          detail::f32(-(lr * rect * std::sqrt(bias_correction2)) / bias_correction1);
    } else {
      args.neg_step_size = detail::f32(-lr / bias_correction1);
    }
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::radam_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
