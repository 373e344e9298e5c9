#include "simdoptim/clip_grad.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "external_grads.hpp"
#include "kernels/clip_kernel.hpp"
#include "optim/storage_args.hpp"
#include "simdoptim/dtype_convert.hpp"
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

using detail::GradGroup;

// The format of a group's arena gradients.
detail::Storage grad_format(const ParamGroup& group) {
  return detail::storage_of(group.grad_dtype());
}

// The groups of `optimizer` (all, or `only`) that have a present gradient, in the optimizer's
// scratch (reused: no allocation once grown).
std::span<const GradGroup> present_groups(Optimizer& optimizer, ParamGroup* only,
                                          std::span<const float* const> external) {
  std::vector<GradGroup>& out = optimizer.tools_scratch().grad_groups;
  out.clear();
  auto& groups = optimizer.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (only != nullptr && &groups[g] != only) continue;
    const GradGroup gg{&groups[g], detail::group_grads(groups, external, g)};
    bool any = false;
    for (std::size_t i = 0; i < groups[g].size() && !any; ++i) any = gg.present(i);
    if (any) out.push_back(gg);
  }
  return out;
}

// Zeroes the padding after every present gradient, which scaling by a NaN or negative
// coefficient or clamping with odd bounds could have made nonzero; the arena invariant says
// padding is zero.
void zero_grad_padding(ParamGroup& group) {
  const auto states = group.tensor_states();
  const bool half = group.grad_dtype() != DType::f32;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!states[i].has_grad) continue;
    const TensorInfo& t = group.info(i);
    const std::size_t end = i + 1 < group.size() ? group.info(i + 1).offset : group.padded_numel();
    if (half)
      std::fill(group.grad16_arena().data() + t.offset + t.numel, group.grad16_arena().data() + end,
                std::uint16_t{0});
    else
      std::fill(group.grad_arena().data() + t.offset + t.numel, group.grad_arena().data() + end,
                0.0f);
  }
}

// Runs `kernel` over the present gradients of `group` with `args` (x set per group), laid out in
// `plan` (the optimizer's, reused).
template <class Args>
void for_present_grads(Optimizer& optimizer, ParamGroup& group, Args args,
                       detail::KernelFn<Args> kernel, detail::StepPlan<Args>& plan) {
  plan.clear();
  args.x = group.grad_arena().data();  // null for 16-bit gradients (the caller sets them)
  detail::for_each_segment(
      group, [](std::size_t) { return 0; },
      [&](const detail::Segment& s) { plan.add(args, s.begin, s.end); });
  plan.run(optimizer.tools_executor(), kernel);
  zero_grad_padding(group);
}

// The per-tensor norms' combination over `groups`, as torch's total_norm, in double.
double total_norm(Optimizer& optimizer, std::span<const GradGroup> groups, double p) {
  const bool inf = std::isinf(p);
  if (p == 2.0 || inf) {
    detail::TensorReducer& reducer = optimizer.tools_scratch().reducer;
    std::vector<double>& per_tensor = optimizer.tools_scratch().per_tensor;
    const auto reduction = inf ? detail::Reduction::abs_max : detail::Reduction::sum_squares;
    double total = 0.0;
    for (const GradGroup& gg : groups) {
      auto present = [&](std::size_t i) { return gg.present(i); };
      per_tensor.resize(gg.group->size());
      if (gg.external.empty() && gg.group->grad_dtype() != DType::f32)
        reducer.run(optimizer.tools_executor(), optimizer.isa(), *gg.group,
                    gg.group->grad16_arena().data(), grad_format(*gg.group), reduction, present,
                    per_tensor);
      else if (gg.external.empty())
        reducer.run(optimizer.tools_executor(), optimizer.isa(), *gg.group,
                    gg.group->grad_arena().data(), reduction, present, per_tensor);
      else
        reducer.run(optimizer.tools_executor(), optimizer.isa(), *gg.group, gg.external, reduction,
                    present, per_tensor);
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
  for (const GradGroup& gg : groups) {
    for (std::size_t i = 0; i < gg.group->size(); ++i) {
      if (!gg.present(i)) continue;
      const std::size_t numel = gg.group->info(i).numel;
      const bool half = gg.external.empty() && gg.group->grad_dtype() != DType::f32;
      double sum = 0.0;
      for (std::size_t k = 0; k < numel; ++k) {
        const float x = half ? from_bits16(gg.group->grad_dtype(),
                                           gg.group->grad16_arena()[gg.group->info(i).offset + k])
                             : gg.data(i)[k];
        sum += std::pow(std::fabs(static_cast<double>(x)), p);
      }
      total += std::pow(std::pow(sum, 1.0 / p), p);
    }
  }
  return std::pow(total, 1.0 / p);
}

// The total norm of `groups` and the clip coefficient, as torch computes them. Throws before
// anything changes when the norm is non-finite and error_if_nonfinite is set.
struct ClipCoef {
  float total = 0.0f;
  float coef = 1.0f;  // clamped to at most 1; 1 means no scaling
};

ClipCoef clip_coef(Optimizer& optimizer, std::span<const GradGroup> groups, double max_norm,
                   double norm_type, bool error_if_nonfinite) {
  if (!(norm_type > 0.0))
    throw std::invalid_argument("clip_grad_norm_: norm_type must be > 0 or inf, got " +
                                format_double(norm_type));
  if (groups.empty()) return {};  // torch: no gradients, tensor(0.)
  const auto total = static_cast<float>(total_norm(optimizer, groups, norm_type));
  if (error_if_nonfinite && !std::isfinite(total))
    throw std::runtime_error("clip_grad_norm_: the total norm of order " +
                             format_double(norm_type) +
                             " of the gradients is non-finite, so it cannot be clipped");
  // torch: max_norm / (total_norm + 1e-6) is Tensor.__rdiv__, reciprocal() * max_norm, in
  // float32; then clamp(max=1.0), which keeps NaN.
  const float coef = (1.0f / (total + 1e-6f)) * static_cast<float>(max_norm);
  return {total, std::isnan(coef) ? coef : std::min(coef, 1.0f)};
}

double clip_norm(Optimizer& optimizer, ParamGroup* only, double max_norm, double norm_type,
                 bool error_if_nonfinite, bool whole_optimizer) {
  const std::span<const GradGroup> present = present_groups(optimizer, only, {});
  const ClipCoef c = clip_coef(optimizer, present, max_norm, norm_type, error_if_nonfinite);
  if (c.coef != 1.0f)
    for (const GradGroup& g : present) {
      detail::ClipScaleArgs args{nullptr, c.coef};
      if (g.group->grad_dtype() != DType::f32) {
        // torch's g.mul_(clip_coef) on a bf16 or fp16 tensor rounds the float32 coefficient to
        // the tensor's format first (measured on 1.13), then the product.
        args.x16 = g.group->grad16_arena().data();
        args.format16 = grad_format(*g.group);
        args.factor = detail::round_to(args.format16, c.coef);
      }
      for_present_grads(optimizer, *g.group, args, detail::clip_scale_kernel(optimizer.isa()),
                        optimizer.tools_scratch().scale_plan);
    }
  if (whole_optimizer && !present.empty() && std::isfinite(c.total) && std::isfinite(c.coef))
    optimizer.note_grads_finite();
  return static_cast<double>(c.total);
}

void clip_value(Optimizer& optimizer, ParamGroup& group, double clip_value) {
  if (std::isnan(clip_value)) throw std::invalid_argument("clip_grad_value_: clip_value is NaN");
  if (!any_grad(group)) return;
  const auto v = static_cast<float>(clip_value);
  detail::ClipClampArgs args{nullptr, -v, v};
  if (group.grad_dtype() != DType::f32) {
    // torch's clamp_ on a bf16 tensor converts its bounds to bf16 (double -> float -> bf16,
    // measured on 1.13); fp16 follows the same rule (torch 1.13 has no fp16 clamp on the CPU).
    args.x16 = group.grad16_arena().data();
    args.format16 = grad_format(group);
    args.lo = detail::round_to(args.format16, args.lo);
    args.hi = detail::round_to(args.format16, args.hi);
  }
  for_present_grads(optimizer, group, args, detail::clip_clamp_kernel(optimizer.isa()),
                    optimizer.tools_scratch().clamp_plan);
}

}  // namespace

double clip_grad_norm_(Optimizer& optimizer, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_norm(optimizer, nullptr, max_norm, norm_type, error_if_nonfinite, true);
}

double clip_grad_norm_(Optimizer& optimizer, ParamGroup& group, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  return clip_norm(optimizer, &own_group(optimizer, group), max_norm, norm_type, error_if_nonfinite,
                   optimizer.param_groups().size() == 1);
}

ClipGradNorm compute_clip_grad_norm(Optimizer& optimizer, double max_norm, double norm_type,
                                    bool error_if_nonfinite,
                                    std::span<const float* const> external) {
  const std::span<const GradGroup> present = present_groups(optimizer, nullptr, external);
  const ClipCoef c = clip_coef(optimizer, present, max_norm, norm_type, error_if_nonfinite);
  if (!present.empty() && std::isfinite(c.total) && std::isfinite(c.coef))
    optimizer.note_grads_finite(external);
  return {static_cast<double>(c.total), c.coef};
}

double clip_grad_norm_and_step(Optimizer& optimizer, double max_norm, double norm_type,
                               bool error_if_nonfinite, std::span<const float* const> external) {
  const ClipGradNorm c =
      compute_clip_grad_norm(optimizer, max_norm, norm_type, error_if_nonfinite, external);
  // clip_grad_norm_ leaves the gradients alone when the coefficient is 1, so the step reads
  // them unscaled; otherwise it reads g * coef, the product clip_grad_norm_ would have stored.
  optimizer.step(StepGrads{external, c.clip_coef});
  return c.total_norm;
}

void clip_grad_value_(Optimizer& optimizer, double clip_value_) {
  for (ParamGroup& g : optimizer.param_groups()) clip_value(optimizer, g, clip_value_);
}

void clip_grad_value_(Optimizer& optimizer, ParamGroup& group, double clip_value_) {
  clip_value(optimizer, own_group(optimizer, group), clip_value_);
}

}  // namespace v1
}  // namespace simdoptim
