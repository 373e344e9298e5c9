#include "simdoptim/clip_grad.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/clip_kernel.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"
#include "tool_scratch.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

std::string format_double(double v) {
  std::string s = std::to_string(v);
  return s;
}

ParamGroup& own_group(Optimizer& optimizer, ParamGroup& group) {
  for (ParamGroup& g : optimizer.param_groups())
    if (&g == &group) return g;
  throw std::invalid_argument("clip_grad: the param group does not belong to this optimizer");
}

bool any_grad(ParamGroup& group) {
  const auto states = group.tensor_states();
  return std::any_of(states.begin(), states.end(), [](const TensorState& s) { return s.has_grad; });
}

// Zeroes the padding after every present gradient, which scaling by a NaN or negative
// coefficient or clamping with odd bounds could have made nonzero; the arena invariant says
// padding is zero.
void zero_grad_padding(ParamGroup& group) {
  const auto states = group.tensor_states();
  float* g = group.grad_arena().data();
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!states[i].has_grad) continue;
    const TensorInfo& t = group.info(i);
    const std::size_t end = i + 1 < group.size() ? group.info(i + 1).offset : group.padded_numel();
    std::fill(g + t.offset + t.numel, g + end, 0.0f);
  }
}

// Runs `kernel` over the present gradients of `group` with `args` (x set per group), laid out in
// `plan` (the optimizer's, reused).
template <class Args>
void for_present_grads(Optimizer& optimizer, ParamGroup& group, Args args,
                       detail::KernelFn<Args> kernel, detail::StepPlan<Args>& plan) {
  plan.clear();
  args.x = group.grad_arena().data();
  detail::for_each_segment(
      group, [](std::size_t) { return 0; },
      [&](const detail::Segment& s) { plan.add(args, s.begin, s.end); });
  plan.run(optimizer.tools_executor(), kernel);
  zero_grad_padding(group);
}

// The per-tensor norms' combination over `groups`, as torch's total_norm, in double.
double total_norm(Optimizer& optimizer, std::span<ParamGroup* const> groups, double p) {
  const bool inf = std::isinf(p);
  if (p == 2.0 || inf) {
    detail::TensorReducer& reducer = optimizer.tools_scratch().reducer;
    std::vector<double>& per_tensor = optimizer.tools_scratch().per_tensor;
    double total = 0.0;
    for (ParamGroup* group : groups) {
      const auto states = group->tensor_states();
      per_tensor.resize(group->size());
      reducer.run(
          optimizer.tools_executor(), optimizer.isa(), *group, group->grad_arena().data(),
          inf ? detail::Reduction::abs_max : detail::Reduction::sum_squares,
          [&](std::size_t i) { return states[i].has_grad; }, per_tensor);
      for (double v : per_tensor) {
        if (inf)
          total = (std::isnan(v) || v > total) ? v : total;
        else
          total += v;
      }
    }
    return inf ? total : std::sqrt(total);
  }
  // General p: a plain loop (rarely used; torch itself has no fast path for it).
  double total = 0.0;
  for (ParamGroup* group : groups) {
    const auto states = group->tensor_states();
    for (std::size_t i = 0; i < group->size(); ++i) {
      if (!states[i].has_grad) continue;
      double sum = 0.0;
      for (float g : group->grad(i).data) sum += std::pow(std::fabs(static_cast<double>(g)), p);
      total += std::pow(std::pow(sum, 1.0 / p), p);
    }
  }
  return std::pow(total, 1.0 / p);
}

double clip_norm(Optimizer& optimizer, std::span<ParamGroup* const> groups, double max_norm,
                 double norm_type, bool error_if_nonfinite, bool whole_optimizer) {
  if (!(norm_type > 0.0))
    throw std::invalid_argument("clip_grad_norm_: norm_type must be > 0 or inf, got " +
                                format_double(norm_type));
  std::vector<ParamGroup*> present;
  for (ParamGroup* g : groups)
    if (any_grad(*g)) present.push_back(g);
  if (present.empty()) return 0.0;  // torch: no gradients, tensor(0.)
  const auto total = static_cast<float>(total_norm(optimizer, present, norm_type));
  if (error_if_nonfinite && !std::isfinite(total))
    throw std::runtime_error("clip_grad_norm_: the total norm of order " +
                             format_double(norm_type) +
                             " of the gradients is non-finite, so it cannot be clipped");
  // torch: max_norm / (total_norm + 1e-6) is Tensor.__rdiv__, reciprocal() * max_norm, in
  // float32; then clamp(max=1.0), which keeps NaN.
  const float coef = (1.0f / (total + 1e-6f)) * static_cast<float>(max_norm);
  const float clamped = std::isnan(coef) ? coef : std::min(coef, 1.0f);
  if (clamped != 1.0f)
    for (ParamGroup* g : present)
      for_present_grads(optimizer, *g, detail::ClipScaleArgs{nullptr, clamped},
                        detail::clip_scale_kernel(optimizer.isa()),
                        optimizer.tools_scratch().scale_plan);
  if (whole_optimizer && std::isfinite(total) && std::isfinite(clamped))
    optimizer.note_grads_finite();
  return static_cast<double>(total);
}

void clip_value(Optimizer& optimizer, ParamGroup& group, double clip_value) {
  if (std::isnan(clip_value)) throw std::invalid_argument("clip_grad_value_: clip_value is NaN");
  if (!any_grad(group)) return;
  const auto v = static_cast<float>(clip_value);
  for_present_grads(optimizer, group, detail::ClipClampArgs{nullptr, -v, v},
                    detail::clip_clamp_kernel(optimizer.isa()),
                    optimizer.tools_scratch().clamp_plan);
}

}  // namespace

double clip_grad_norm_(Optimizer& optimizer, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  std::vector<ParamGroup*> groups;
  for (ParamGroup& g : optimizer.param_groups()) groups.push_back(&g);
  return clip_norm(optimizer, groups, max_norm, norm_type, error_if_nonfinite, true);
}

double clip_grad_norm_(Optimizer& optimizer, ParamGroup& group, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  ParamGroup* const groups[] = {&own_group(optimizer, group)};
  return clip_norm(optimizer, groups, max_norm, norm_type, error_if_nonfinite,
                   optimizer.param_groups().size() == 1);
}

void clip_grad_value_(Optimizer& optimizer, double clip_value_) {
  for (ParamGroup& g : optimizer.param_groups()) clip_value(optimizer, g, clip_value_);
}

void clip_grad_value_(Optimizer& optimizer, ParamGroup& group, double clip_value_) {
  clip_value(optimizer, own_group(optimizer, group), clip_value_);
}

}  // namespace v1
}  // namespace simdoptim
