// LAMB (timm.optim.Lamb); formula in include/simdoptim/lamb.hpp. Two passes per group: the
// moments and the update u (kernels/lamb_*), then per-tensor trust ratios and p -= lr * r * u
// (kernels/axpy_*).
#include "simdoptim/lamb.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernels/axpy_kernel.hpp"
#include "kernels/lamb_kernel.hpp"
#include "optim/option_table.hpp"
#include "optim/registration.hpp"
#include "per_tensor_state.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

using detail::Check;

// In the order of LambOptions::to_group_options().
constexpr detail::OptionSpec kOptions[] = {
    {"lr", 1e-3, Check::non_negative, "learning rate"},
    {"beta1", 0.9, Check::unit, "decay of the running mean of gradients (timm: betas[0])"},
    {"beta2", 0.999, Check::unit, "decay of the running mean of squares (timm: betas[1])"},
    {"eps", 1e-6, Check::non_negative, "added to the denominator"},
    {"weight_decay", 0.01, Check::non_negative,
     "added to the update as weight_decay * p; 0 (without always_adapt) also drops the trust "
     "ratio"},
    {"bias_correction", 1.0, Check::flag, "divide the moments by 1 - beta^t"},
    {"grad_averaging", 1.0, Check::flag, "m takes (1 - beta1) * g instead of g"},
    {"max_grad_norm", 1.0, Check::non_negative,
     "clip by the global gradient norm of all groups; 0: off (timm: None)"},
    {"trust_clip", 0.0, Check::flag, "clamp the trust ratio to at most 1"},
    {"always_adapt", 0.0, Check::flag, "apply the trust ratio even when weight_decay is 0"},
};
enum State { exp_avg, exp_avg_sq };
constexpr detail::StateSpec kStates[] = {{"exp_avg"}, {"exp_avg_sq"}};

// From this size of the update scratch on (beyond any cache here), it is stored non-temporally.
constexpr std::size_t kStreamBytes = std::size_t{64} << 20;
// The scratch's stagger: the stream after a group's parameters, gradients and two moments.
constexpr std::size_t kUpdateStream = 4;

}  // namespace

// What a step reuses, grown on the first steps, so that later steps do not allocate.
struct Lamb::Scratch {
  // u of the group being stepped (groups step one after another), sized for the largest group.
  std::unique_ptr<detail::AlignedBuffer> update;
  detail::TensorReducer reducer;
  std::vector<double> sums, p_sq, u_sq;  // per tensor of a group
  detail::StepPlan<detail::LambArgs> plan;
  detail::StepPlan<detail::AxpyArgs> apply;
};

GroupOptions LambOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"bias_correction", bias_correction ? 1.0 : 0.0},
          {"grad_averaging", grad_averaging ? 1.0 : 0.0},
          {"max_grad_norm", max_grad_norm},
          {"trust_clip", trust_clip ? 1.0 : 0.0},
          {"always_adapt", always_adapt ? 1.0 : 0.0}};
}

Lamb::Lamb(LambOptions options, RuntimeOptions runtime)
    : Optimizer(options.to_group_options(), runtime), scratch_(std::make_unique<Scratch>()) {
  validate(defaults());
}

Lamb::Lamb(std::vector<ParamSpec> params, LambOptions options, RuntimeOptions runtime)
    : Lamb(options, runtime) {
  add_param_group(std::move(params));
}

Lamb::~Lamb() = default;

void Lamb::validate(const GroupOptions& o) const {
  detail::validate_options(kOptions, o);
}

double Lamb::global_grad_norm() {
  bool clipping = false;
  for (const ParamGroup& g : param_groups())
    clipping = clipping || g.options().get("max_grad_norm") != 0.0;
  if (!clipping) return 0.0;
  detail::TensorReducer& reducer = scratch_->reducer;
  std::vector<double>& sums = scratch_->sums;
  // Tensor order, then group order: the same sum at any thread count.
  double total = 0.0;
  for (ParamGroup& g : param_groups()) {
    sums.resize(g.size());
    const auto states = g.tensor_states();
    reducer.run(
        executor(), isa(), g, g.grad_arena().data(), detail::Reduction::sum_squares,
        [&](std::size_t i) { return states[i].has_grad; }, sums);
    for (double s : sums) total += s;
  }
  return std::sqrt(total);
}

void Lamb::step_group(ParamGroup& group) {
  // Optimizer::step() visits groups in order and skips those without a gradient.
  for (ParamGroup& g : param_groups()) {
    const auto st = g.tensor_states();
    bool any = false;
    for (const auto& s : st) any = any || s.has_grad;
    if (!any) continue;
    if (&g == &group) grad_norm_ = global_grad_norm();
    break;
  }

  const GroupOptions& o = group.options();
  const double max_norm = o.get("max_grad_norm");
  const double clip = max_norm != 0.0 && grad_norm_ > max_norm ? grad_norm_ / max_norm : 1.0;
  const double lr = o.get("lr");
  const double beta1 = o.get("beta1");
  const double beta2 = o.get("beta2");
  const double weight_decay = o.get("weight_decay");
  const bool adapt = weight_decay != 0.0 || o.flag("always_adapt");
  detail::LambArgs base;
  base.param = group.param_arena().data();
  base.grad = group.grad_arena().data();
  base.exp_avg = group.ensure_state_arena(kStates[exp_avg].name);
  base.exp_avg_sq = group.ensure_state_arena(kStates[exp_avg_sq].name);
  std::unique_ptr<detail::AlignedBuffer>& update = scratch_->update;
  if (adapt && (!update || update->size() < group.padded_numel()))
    update = std::make_unique<detail::AlignedBuffer>(std::max<std::size_t>(group.padded_numel(), 1),
                                                     kUpdateStream);
  base.update = adapt ? update->data() : nullptr;
  // u is read back only after the whole pass: past the caches' size, storing it without the
  // read for ownership saves 4 of the 52 bytes per element the step would move.
  base.stream_update = group.padded_numel() * sizeof(float) >= kStreamBytes;
  base.clip = static_cast<float>(clip);
  base.beta1 = static_cast<float>(beta1);
  base.beta3 = static_cast<float>(o.flag("grad_averaging") ? 1.0 - beta1 : 1.0);
  base.beta2 = static_cast<float>(beta2);
  base.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  base.eps = static_cast<float>(o.get("eps"));
  base.weight_decay = static_cast<float>(weight_decay);
  base.neg_lr = static_cast<float>(-lr);
  const bool bias_correction = o.flag("bias_correction");

  auto states = group.tensor_states();
  detail::StepPlan<detail::LambArgs>& plan = scratch_->plan;
  plan.clear();
  auto step_of = [&](std::size_t i) { return states[i].step; };
  detail::for_each_segment(group, step_of, [&](const detail::Segment& s) {
    const std::int64_t t = detail::advance_step(group, s);
    detail::LambArgs args = base;
    if (bias_correction) {
      const double t_d = static_cast<double>(t);
      args.inv_bias_correction1 = static_cast<float>(1.0 / (1.0 - std::pow(beta1, t_d)));
      args.inv_bias_correction2_sqrt =
          static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(beta2, t_d)));
    }
    plan.add(args, s.begin, s.end);
  });
  plan.run(executor(), detail::lamb_kernel(isa()));
  // With eps = 0 the padding's u is 0 / 0 (g, m and v are 0 there): clear it before it reaches
  // the norms below, or, applied directly, the parameters' padding. Real elements keep timm's.
  if (base.eps == 0.0f) {
    float* const arena = adapt ? base.update : base.param;
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (!states[i].has_grad) continue;
      const TensorInfo& info = group.info(i);
      const std::size_t end =
          i + 1 < group.size() ? group.info(i + 1).offset : group.padded_numel();
      std::fill(arena + info.offset + info.numel, arena + end, 0.0f);
    }
  }
  if (!adapt) return;

  // Pass 2: r = ||p|| / ||u|| per tensor (deterministic segment reductions), p -= lr * r * u.
  detail::TensorReducer& reducer = scratch_->reducer;
  std::vector<double>& p_sq = scratch_->p_sq;
  std::vector<double>& u_sq = scratch_->u_sq;
  p_sq.resize(group.size());
  u_sq.resize(group.size());
  auto selected = [&](std::size_t i) { return states[i].has_grad; };
  reducer.run(executor(), isa(), group, base.param, detail::Reduction::sum_squares, selected, p_sq);
  reducer.run(executor(), isa(), group, base.update, detail::Reduction::sum_squares, selected,
              u_sq);
  const bool trust_clip = o.flag("trust_clip");
  detail::StepPlan<detail::AxpyArgs>& apply = scratch_->apply;
  apply.clear();
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!states[i].has_grad) continue;
    const double w_norm = std::sqrt(p_sq[i]);
    const double u_norm = std::sqrt(u_sq[i]);
    double ratio = w_norm > 0.0 && u_norm > 0.0 ? w_norm / u_norm : 1.0;
    if (trust_clip && ratio > 1.0) ratio = 1.0;
    const TensorInfo& info = group.info(i);
    const std::size_t end = i + 1 < group.size() ? group.info(i + 1).offset : group.padded_numel();
    apply.add({base.param, base.update, static_cast<float>(-lr * ratio)}, info.offset, end);
  }
  apply.run(executor(), detail::axpy_kernel(isa()));
}

}  // namespace v1
}  // namespace simdoptim

SIMDOPTIM_REGISTER(lamb, {.name = "lamb",
                          .options = kOptions,
                          .states = kStates,
                          .make = [](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
                            return std::make_unique<Lamb>(LambOptions{}, r);
                          }})
