#include "simdoptim/nadam.hpp"

#include <cmath>
#include <utility>

#include "adam_moment_options.hpp"
#include "kernels/nadam_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions NAdamOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"momentum_decay", momentum_decay},
          {"decoupled_weight_decay", decoupled_weight_decay ? 1.0 : 0.0}};
}

NAdam::NAdam(NAdamOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

NAdam::NAdam(std::vector<ParamSpec> params, NAdamOptions options, RuntimeOptions runtime)
    : NAdam(options, runtime) {
  add_param_group(std::move(params));
}

void NAdam::validate(const GroupOptions& o) const {
  detail::validate_adam_moment_options(o);
  detail::require_non_negative(o, "momentum_decay");
}

void NAdam::save_tensor_scalars(std::size_t group, std::size_t tensor,
                                std::vector<std::pair<std::string, double>>& out) const {
  out.emplace_back("mu_product", detail::table_get(mu_product_, group, tensor, 1.0f));
}

void NAdam::load_tensor_scalars(std::size_t group, std::size_t tensor,
                                std::span<const std::pair<std::string, double>> values) {
  // Saved from a float32, so the cast back is exact.
  detail::table_row(mu_product_, group, param_groups()[group].size(), 1.0f)[tensor] =
      static_cast<float>(values[0].second);
}

double NAdam::mu_product(std::size_t group, std::size_t tensor) const {
  return detail::table_get(mu_product_, group, tensor, 1.0f);
}

void NAdam::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double beta1 = o.get("beta1");
  const double beta2 = o.get("beta2");
  const double momentum_decay = o.get("momentum_decay");
  detail::NadamArgs base;
  detail::set_adam_moment_args(base, group);

  auto& mu_product = detail::table_row(mu_product_, detail::group_index(param_groups(), group),
                                       group.size(), 1.0f);
  const auto states = group.tensor_states();
  static thread_local detail::StepPlan<detail::NadamArgs> plan;
  plan.clear();
  // Tensors skipped on earlier steps have other step counts and momentum products.
  auto key = [&](std::size_t i) { return std::pair(states[i].step, mu_product[i]); };
  detail::for_each_segment(group, key, [&](const detail::Segment& s) {
    const auto t = static_cast<double>(detail::advance_step(group, s));
    const double mu = beta1 * (1.0 - 0.5 * std::pow(0.96, t * momentum_decay));
    const double mu_next = beta1 * (1.0 - 0.5 * std::pow(0.96, (t + 1.0) * momentum_decay));
    // torch 1.13 keeps mu_product as a float32 tensor and multiplies it by float32 scalars.
    const float product = mu_product[s.first] * detail::f32(mu);
    const float product_next = product * detail::f32(mu) * detail::f32(mu_next);
    for (std::size_t i = s.first; i < s.last; ++i) mu_product[i] = product;
    detail::NadamArgs args = base;
    args.bias_correction2 = detail::f32(1.0 - std::pow(beta2, t));
    args.grad_coef = detail::f32(-lr * (1.0 - mu) / (1.0 - static_cast<double>(product)));
    args.exp_avg_coef = detail::f32(-lr * mu_next / (1.0 - static_cast<double>(product_next)));
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::nadam_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
