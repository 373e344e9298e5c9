#include "simdoptim/asgd.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <tuple>

#include "kernels/asgd_kernel.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

// Tensor `tensor` of group `group` of `opt`, which must have stepped; throws otherwise.
void require_state(const Optimizer& opt, std::size_t group, std::size_t tensor) {
  if (group >= opt.param_groups().size() || tensor >= opt.param_groups()[group].size() ||
      !opt.param_groups()[group].has_state(tensor))
    throw std::out_of_range("ASGD: no state for tensor " + std::to_string(tensor) + " of group " +
                            std::to_string(group));
}

}  // namespace

GroupOptions ASGDOptions::to_group_options() const {
  return {{"lr", lr},
          {"lambd", lambd},
          {"alpha", alpha},
          {"t0", t0},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

ASGD::ASGD(ASGDOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

ASGD::ASGD(std::vector<ParamSpec> params, ASGDOptions options, RuntimeOptions runtime)
    : ASGD(options, runtime) {
  add_param_group(std::move(params));
}

void ASGD::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_non_negative(o, "weight_decay");
  // torch checks nothing else; NaN would only poison the parameters.
  for (const char* key : {"lambd", "alpha", "t0"}) {
    const double v = o.get(key);
    if (v != v) detail::invalid_option(key, v, "must be a number");
  }
  detail::require_flag(o, "maximize");
}

void ASGD::save_tensor_scalars(std::size_t group, std::size_t tensor,
                               std::vector<std::pair<std::string, double>>& out) const {
  out.emplace_back("eta", detail::table_get(eta_, group, tensor, 0.0f));
  out.emplace_back("mu", detail::table_get(mu_, group, tensor, 1.0f));
}

void ASGD::load_tensor_scalars(std::size_t group, std::size_t tensor,
                               std::span<const std::pair<std::string, double>> values) {
  // Saved from float32 values, so the casts back are exact.
  const std::size_t n = param_groups()[group].size();
  detail::table_row(eta_, group, n, 0.0f)[tensor] = static_cast<float>(values[0].second);
  detail::table_row(mu_, group, n, 1.0f)[tensor] = static_cast<float>(values[1].second);
}

double ASGD::eta(std::size_t group, std::size_t tensor) const {
  require_state(*this, group, tensor);
  return detail::table_get(eta_, group, tensor, 0.0f);
}

double ASGD::mu(std::size_t group, std::size_t tensor) const {
  require_state(*this, group, tensor);
  return detail::table_get(mu_, group, tensor, 1.0f);
}

void ASGD::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double lambd = o.get("lambd");
  const double alpha = o.get("alpha");
  const double t0 = o.get("t0");
  detail::AsgdArgs base;
  base.param = group.param_arena().data();
  base.grad = group.grad_arena().data();
  base.ax = group.ensure_state_arena("ax");
  base.weight_decay = detail::f32(o.get("weight_decay"));
  base.maximize = o.flag("maximize");

  const std::size_t g = detail::group_index(param_groups(), group);
  auto& eta = detail::table_row(eta_, g, group.size(), 0.0f);
  auto& mu = detail::table_row(mu_, g, group.size(), 1.0f);
  const auto states = group.tensor_states();
  // A tensor's eta starts at the lr of its group when it first steps (torch).
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (states[i].has_grad && !states[i].initialized) {
      eta[i] = detail::f32(lr);
      mu[i] = 1.0f;
    }
  }

  static thread_local detail::StepPlan<detail::AsgdArgs> plan;
  plan.clear();
  // Tensors skipped on earlier steps have other step counts, hence another eta and mu.
  auto key = [&](std::size_t i) { return std::tuple(states[i].step, eta[i], mu[i]); };
  detail::for_each_segment(group, key, [&](const detail::Segment& s) {
    const auto t = static_cast<double>(detail::advance_step(group, s));
    detail::AsgdArgs args = base;
    args.decay_factor = detail::f32(1.0 - lambd * static_cast<double>(eta[s.first]));
    args.neg_eta = -eta[s.first];
    args.mu = mu[s.first];
    const float next_eta = detail::f32(lr / std::pow(1.0 + lambd * lr * t, alpha));
    const float next_mu = detail::f32(1.0 / std::max(1.0, t - t0));
    std::fill(eta.begin() + s.first, eta.begin() + s.last, next_eta);
    std::fill(mu.begin() + s.first, mu.begin() + s.last, next_mu);
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::asgd_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
