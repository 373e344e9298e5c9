// LARS (timm.optim.Lars, plus exclude_1d); formula in include/simdoptim/lars.hpp. Per-tensor
// norms first (tensor_reductions), then one SGD-like pass (kernels/lars_*).
#include "simdoptim/lars.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/lars_kernel.hpp"
#include "optim/option_table.hpp"
#include "optim/registration.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"
#include "validate_options.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

using detail::Check;

// In the order of LarsOptions::to_group_options().
constexpr detail::OptionSpec kOptions[] = {
    {"lr", 1.0, Check::non_negative, "learning rate"},
    {"momentum", 0.0, Check::non_negative, "momentum factor"},
    {"dampening", 0.0, Check::non_negative, "dampening for momentum"},
    {"weight_decay", 0.0, Check::non_negative,
     "added to g as weight_decay * p; 0 (without always_adapt) also drops the trust ratio"},
    {"nesterov", 0.0, Check::flag, "Nesterov momentum (momentum > 0, dampening 0)"},
    {"trust_coeff", 0.001, Check::non_negative, "trust coefficient of the ratio"},
    {"eps", 1e-8, Check::non_negative, "added to the ratio's denominator"},
    {"trust_clip", 0.0, Check::flag, "use min(r / lr, 1) as the ratio (LARC)"},
    {"always_adapt", 0.0, Check::flag, "apply the trust ratio even when weight_decay is 0"},
    {"exclude_1d", 0.0, Check::flag,
     "tensors of at most one dimension get neither weight decay nor the trust ratio"},
};
enum State { momentum_buffer };
constexpr detail::StateSpec kStates[] = {{"momentum_buffer", "momentum"}};

}  // namespace

// What a step reuses, grown on the first steps, so that later steps do not allocate.
struct Lars::Scratch {
  detail::TensorReducer reducer;
  std::vector<double> p_sq, g_sq;  // per tensor of the group
  detail::StepPlan<detail::LarsArgs> plan;
};

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
    : Optimizer(options.to_group_options(), runtime), scratch_(std::make_unique<Scratch>()) {
  validate(defaults());
}

Lars::Lars(std::vector<ParamSpec> params, LarsOptions options, RuntimeOptions runtime)
    : Lars(options, runtime) {
  add_param_group(std::move(params));
}

Lars::~Lars() = default;

void Lars::validate(const GroupOptions& o) const {
  detail::validate_options(kOptions, o);
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
  base.momentum_buffer =
      momentum != 0.0 ? group.ensure_state_arena(kStates[momentum_buffer].name) : nullptr;
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
  detail::TensorReducer& reducer = scratch_->reducer;
  std::vector<double>& p_sq = scratch_->p_sq;
  std::vector<double>& g_sq = scratch_->g_sq;
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

  detail::StepPlan<detail::LarsArgs>& plan = scratch_->plan;
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
      states[i].step = detail::next_step(states[i].step);
      if (base.momentum_buffer != nullptr) states[i].initialized = true;
    }
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::lars_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim

SIMDOPTIM_REGISTER(lars, {.name = "lars",
                          .options = kOptions,
                          .states = kStates,
                          .make = [](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
                            return std::make_unique<Lars>(LarsOptions{}, r);
                          }})
