#include "simdoptim/lars.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/lars_kernel.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {

GroupOptions LarsOptions::to_group_options() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"dampening", dampening},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov ? 1.0 : 0.0},
          {"trust_coeff", trust_coeff},
          {"eps", eps},
          {"trust_clip", trust_clip ? 1.0 : 0.0},
          {"always_adapt", always_adapt ? 1.0 : 0.0},
          {"exclude_1d", exclude_1d ? 1.0 : 0.0}};
}

Lars::Lars(LarsOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime) {
  validate(defaults());
}

Lars::Lars(std::vector<ParamSpec> params, LarsOptions options, RuntimeOptions runtime)
    : Lars(options, runtime) {
  add_param_group(std::move(params));
}

void Lars::validate(const GroupOptions& o) const {
  detail::require_non_negative(o, "lr");
  detail::require_non_negative(o, "momentum");
  detail::require_non_negative(o, "dampening");
  detail::require_non_negative(o, "weight_decay");
  detail::require_flag(o, "nesterov");
  detail::require_non_negative(o, "trust_coeff");
  detail::require_non_negative(o, "eps");
  detail::require_flag(o, "trust_clip");
  detail::require_flag(o, "always_adapt");
  detail::require_flag(o, "exclude_1d");
  if (o.flag("nesterov") && (o.get("momentum") <= 0.0 || o.get("dampening") != 0.0))
    detail::invalid_option("nesterov", 1.0, "requires momentum > 0 and dampening == 0");
}

void Lars::step_group(ParamGroup& group) {
  const GroupOptions& o = group.options();
  const double lr = o.get("lr");
  const double momentum = o.get("momentum");
  const double weight_decay = o.get("weight_decay");
  const bool exclude_1d = o.flag("exclude_1d");
  detail::LarsArgs base;
  base.param = group.param_arena().data();
  base.grad = group.grad_arena().data();
  base.momentum_buffer = momentum != 0.0 ? group.ensure_state_arena("momentum_buffer") : nullptr;
  base.neg_lr = static_cast<float>(-lr);
  base.weight_decay = static_cast<float>(weight_decay);
  base.momentum = static_cast<float>(momentum);
  base.one_minus_dampening = static_cast<float>(1.0 - o.get("dampening"));
  base.nesterov = o.flag("nesterov");

  auto states = group.tensor_states();
  const bool adapt_group = weight_decay != 0.0 || o.flag("always_adapt");
  auto adapts = [&](std::size_t i) {
    return adapt_group && !(exclude_1d && group.info(i).shape.size() <= 1);
  };

  // Trust ratios from ||p|| and ||grad||: deterministic segment reductions over the arenas.
  static thread_local detail::TensorReducer reducer;
  static thread_local std::vector<double> p_sq, g_sq;
  if (adapt_group) {
    p_sq.resize(group.size());
    g_sq.resize(group.size());
    auto selected = [&](std::size_t i) { return states[i].has_grad && adapts(i); };
    reducer.run(executor(), isa(), group, base.param, detail::Reduction::sum_squares, selected,
                p_sq);
    reducer.run(executor(), isa(), group, base.grad, detail::Reduction::sum_squares, selected,
                g_sq);
  }
  const double trust_coeff = o.get("trust_coeff");
  const double eps = o.get("eps");
  const bool trust_clip = o.flag("trust_clip");

  static thread_local detail::StepPlan<detail::LarsArgs> plan;
  plan.clear();
  // Adapted tensors each get their own call (their own ratio); the others coalesce as in SGD.
  auto key = [&](std::size_t i) {
    return std::pair<std::size_t, bool>{adapts(i) ? i : group.size(), states[i].initialized};
  };
  detail::for_each_segment(group, key, [&](const detail::Segment& s) {
    detail::LarsArgs args = base;
    args.first_step = base.momentum_buffer != nullptr && !states[s.first].initialized;
    if (adapts(s.first)) {
      const double w_norm = std::sqrt(p_sq[s.first]);
      const double g_norm = std::sqrt(g_sq[s.first]);
      double ratio = 1.0;
      if (w_norm > 0.0 && g_norm > 0.0)
        ratio = trust_coeff * w_norm / (g_norm + w_norm * weight_decay + eps);
      if (trust_clip) ratio = std::min(ratio / lr, 1.0);
      args.adapt = true;
      args.trust_ratio = static_cast<float>(ratio);
    }
    for (std::size_t i = s.first; i < s.last; ++i) {
      ++states[i].step;
      if (base.momentum_buffer != nullptr) states[i].initialized = true;
    }
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::lars_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim
