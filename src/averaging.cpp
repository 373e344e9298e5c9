// Optimizer's weight averaging (simdoptim/averaging.hpp): the per-step weights, computed on the
// host in double, and the averaging pass over the tensors a step did not average itself.
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "executor.hpp"
#include "kernels/average_element.hpp"
#include "kernels/average_kernel.hpp"
#include "optim/storage_args.hpp"
#include "simdoptim/lbfgs.hpp"
#include "simdoptim/optimizer.hpp"
#include "tool_scratch.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

using Mode = AveragingOptions::Mode;

void check_unit(const char* key, double value) {
  if (!(value >= 0.0 && value <= 1.0))
    throw std::invalid_argument(std::string("averaging ") + key + " must be in [0, 1], got " +
                                std::to_string(value));
}

void check_count(const char* key, std::int64_t value) {
  if (value < 1)
    throw std::invalid_argument(std::string("averaging ") + key + " must be at least 1, got " +
                                std::to_string(value));
}

// A 16-bit average of 16-bit parameters is updated in fp32 and rounded; Lookahead writes the
// parameters back, which stochastic rounding could not reproduce in the second pass.
void check_averaged_storage(const ParamGroup& group, const AveragingOptions& o) {
  if (o.dtype != DType::f32 && o.dtype != DType::bf16 && o.dtype != DType::f16)
    throw std::invalid_argument(std::string("averaging dtype must be f32, bf16 or f16, not ") +
                                dtype_name(o.dtype));
  if (o.mode == Mode::lookahead && group.storage().stochastic_rounding)
    throw std::invalid_argument(
        "lookahead does not support stochastic rounding of the parameters (it rounds the slow "
        "weights it writes back to nearest-even): use master weights");
}

// timm's ModelEmaV3.get_decay(step).
double v3_decay(const AveragingOptions& o, std::int64_t step) {
  const auto s = static_cast<double>(std::max<std::int64_t>(0, step - o.v3.update_after_step - 1));
  if (s <= 0.0) return 0.0;
  if (!o.warmup) return o.decay;
  const double warm = 1.0 - std::pow(1.0 + s / o.v3.gamma, -o.v3.power);
  return std::max(std::min(warm, o.decay), o.v3.min_decay);
}

constexpr std::uint32_t kind_bits(detail::AverageKind k) {
  return static_cast<std::uint32_t>(k);
}

}  // namespace

void Optimizer::set_averaging(AveragingOptions options) {
  // LBFGS's step(closure) runs its own iterations, never the step that averages.
  if (options.mode != Mode::none && dynamic_cast<const Lbfgs*>(this) != nullptr)
    throw std::invalid_argument("lbfgs does not support weight averaging (set_averaging)");
  check_unit("decay", options.decay);
  check_unit("alpha", options.alpha);
  check_count("start", options.start);
  check_count("every", options.every);
  check_count("k", options.k);
  if (options.v3.enabled) {
    if (options.v3.update_after_step < 0)
      throw std::invalid_argument("averaging v3.update_after_step must be at least 0, got " +
                                  std::to_string(options.v3.update_after_step));
    if (!(options.v3.gamma > 0.0) || !(options.v3.power > 0.0) ||
        !std::isfinite(options.v3.gamma) || !std::isfinite(options.v3.power))
      throw std::invalid_argument("averaging v3.gamma and v3.power must be positive and finite");
    check_unit("v3.min_decay", options.v3.min_decay);
  }
  if (options.mode != Mode::none) {
    // All or nothing: every group's average is made before any is replaced.
    for (ParamGroup& group : groups_) check_averaged_storage(group, options);
    for (ParamGroup& group : groups_) group.reset_averaged_arena(options.dtype);
  }
  averaging_ = std::move(options);
  averaging_step_ = 0;
  n_averaged_ = 0;
}

void Optimizer::set_averaging_decay(double decay) {
  check_unit("decay", decay);
  averaging_.decay = decay;
}

void Optimizer::set_averaging_counts(std::int64_t step, std::int64_t n_averaged) {
  if (step < 0 || n_averaged < 0 || step > TensorState::kMaxStep ||
      n_averaged > TensorState::kMaxStep)
    throw std::invalid_argument("averaging counts must be in [0, 2^53], got step " +
                                std::to_string(step) + " and n_averaged " +
                                std::to_string(n_averaged));
  averaging_step_ = step;
  n_averaged_ = n_averaged;
}

TensorView Optimizer::averaged_param(std::string_view name) {
  const auto [g, i] = locate(name);
  return groups_[g].averaged_param(i);
}

void Optimizer::swap_averaged_params() {
  if (averaging_.mode == Mode::none)
    throw std::logic_error("swap_averaged_params: averaging is off (set_averaging)");
  // Exchanging is lossless only between arrays of one format: an fp32 average with fp32
  // parameters or master weights (whose 16-bit copy is then rewritten from them, as every step
  // writes it), a 16-bit average with 16-bit parameters of its format.
  for (ParamGroup& group : groups_) {
    const StorageOptions& s = group.storage();
    const DType values = s.master_weights ? DType::f32 : s.param;
    const DType avg = group.averaged_arena() ? group.averaged_dtype() : averaging_.dtype;
    if (values != avg)
      throw std::logic_error(
          std::string("swap_averaged_params: a group stores its parameters as ") +
          dtype_name(values) + " and their average as " + dtype_name(avg) +
          ", which cannot be exchanged without rounding; evaluate with "
          "averaged_param() views, or average in the parameters' dtype");
  }
  for (ParamGroup& group : groups_) {
    if (group.averaged_arena() == nullptr) group.reset_averaged_arena(averaging_.dtype);
    if (group.averaged_dtype() == DType::f32) {
      const std::span<float> p = group.param_arena();
      std::swap_ranges(p.begin(), p.end(), group.averaged_arena());
      if (group.storage().master_weights) group.round_master_weights();
    } else {
      const std::span<std::uint16_t> p = group.param16_arena();
      std::swap_ranges(p.begin(), p.end(),
                       reinterpret_cast<std::uint16_t*>(group.averaged_arena()));
    }
  }
}

Optimizer::AveragingCall Optimizer::plan_averaging() {
  using detail::AverageKind;
  const AveragingOptions& o = averaging_;
  if (o.mode == Mode::none) return {};
  const std::int64_t step = std::min(averaging_step_ + 1, TensorState::kMaxStep);
  AveragingCall call;
  if (o.mode == Mode::lookahead) {
    if (step % o.k == 0) call = {kind_bits(AverageKind::lookahead), static_cast<float>(o.alpha)};
  } else if (step >= o.start && (step - o.start) % o.every == 0) {
    const auto n = static_cast<double>(n_averaged_);
    if (o.mode == Mode::ema) {
      double decay = o.decay;
      if (o.decay_schedule) {
        decay = o.decay_schedule(step);
        check_unit("decay (from decay_schedule)", decay);
      } else if (o.v3.enabled) {
        decay = v3_decay(o, step);
      } else if (o.warmup) {
        decay = std::min(decay, (1.0 + n) / (10.0 + n));
      }
      call = {kind_bits(AverageKind::ema), static_cast<float>(decay),
              static_cast<float>(1.0 - decay)};
    } else if (n_averaged_ == 0) {
      call = {kind_bits(AverageKind::copy)};
    } else {
      // torch divides by the long tensor n_averaged + 1, converted to float.
      call = {kind_bits(AverageKind::swa), static_cast<float>(n + 1.0)};
    }
  }
  // Groups added since set_averaging start their average now, before their first step.
  for (ParamGroup& group : groups_)
    if (group.averaged_arena() == nullptr) {
      check_averaged_storage(group, o);
      group.reset_averaged_arena(o.dtype);
    }
  averaging_step_ = step;
  if (call.kind != 0 && o.mode != Mode::lookahead) n_averaged_ = std::min(n_averaged_ + 1, step);
  call.fused =
      call.kind != kind_bits(AverageKind::copy) && call.kind != 0 && o.fused && fuses_averaging();
  return call;
}

void Optimizer::average_rest(ParamGroup& group) {
  const AveragingCall& call = averaging_call_;
  if (call.kind == 0) return;
  // Lookahead syncs the tensors that stepped (timm skips a parameter whose grad is None); the
  // averages take every tensor, as AveragedModel and ModelEmaV2 do.
  const bool lookahead = averaging_.mode == Mode::lookahead;
  const bool fused = call.fused && group.fuses_averaging();
  if (fused && lookahead) return;
  auto wanted = [&](std::size_t i) {
    if (lookahead) return group.has_grad(i);
    return !fused || !group.has_grad(i);
  };
  const StorageOptions& s = group.storage();
  detail::AverageArgs args;
  args.param = group.averaged_source();
  if (args.param == nullptr) {
    args.param = group.param16_arena().data();
    args.param_format = detail::storage_of(s.param);
  } else if (s.master_weights) {
    args.param_copy = group.param16_arena().data();
    args.param_copy_format = detail::storage_of(s.param);
  }
  args.averaged = group.averaged_arena();
  args.averaged_format = detail::storage_of(group.averaged_dtype());
  args.kind = call.kind;
  args.w0 = call.w0;
  args.w1 = call.w1;
  auto& plan = tools_scratch_->average_plan;
  plan.clear();
  const std::size_t n = group.size();
  auto start_of = [&](std::size_t i) {
    return i < n ? group.info(i).offset : group.padded_numel();
  };
  for (std::size_t i = 0; i < n;) {
    if (!wanted(i)) {
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < n && wanted(j)) ++j;
    plan.add(args, start_of(i), start_of(j));
    i = j;
  }
  plan.run(*executor_, detail::average_kernel(isa_));
}

}  // namespace v1
}  // namespace simdoptim
