#include "simdoptim/lr_scheduler/cyclic_lr.hpp"

#include <cmath>
#include <utility>

#include "lr_scheduler/momentum_key.hpp"
#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

constexpr std::string_view kName = "CyclicLR";

// Validates everything, then (when starting) writes base_lr and base_momentum into the groups
// before the base class records initial_lr, in torch's order.
Optimizer& prepare(Optimizer& optimizer, const CyclicLROptions& o) {
  const std::size_t n = optimizer.param_groups().size();
  const std::vector<double> base_lrs = detail::per_group(kName, "base_lr", o.base_lr, n);
  detail::per_group(kName, "max_lr", o.max_lr, n);
  if (!(o.step_size_up > 0.0)) {
    detail::invalid(kName, "step_size_up", "must be positive", o.step_size_up);
  }
  if (o.step_size_down && !(*o.step_size_down >= 0.0)) {
    detail::invalid(kName, "step_size_down", "must be non-negative", *o.step_size_down);
  }
  if (!o.scale_fn && o.mode != "triangular" && o.mode != "triangular2" && o.mode != "exp_range") {
    detail::invalid(kName, "mode",
                    "must be 'triangular', 'triangular2' or 'exp_range' when scale_fn is unset",
                    "'" + o.mode + "'");
  }
  if (o.scale_fn && o.scale_mode != "cycle" && o.scale_mode != "iterations") {
    detail::invalid(kName, "scale_mode", "must be 'cycle' or 'iterations'",
                    "'" + o.scale_mode + "'");
  }
  std::vector<double> base_momentums;
  std::string key;
  if (o.cycle_momentum) {
    key = detail::momentum_key(kName, optimizer);
    base_momentums = detail::per_group(kName, "base_momentum", o.base_momentum, n);
    detail::per_group(kName, "max_momentum", o.max_momentum, n);
  }
  if (o.last_epoch == -1) {
    for (std::size_t i = 0; i < n; ++i) {
      ParamGroup& g = optimizer.param_groups()[i];
      // An unscheduled group's lr is unscaled (see Scheduler); a scheduled one includes lr_scale.
      if (g.options().contains("initial_lr")) {
        detail::write_lr(g, base_lrs[i]);
      } else {
        g.set_lr(base_lrs[i]);
      }
      if (o.cycle_momentum) g.options().set(key, base_momentums[i]);
    }
  }
  return optimizer;
}

}  // namespace

CyclicLR::CyclicLR(Optimizer& optimizer, CyclicLROptions options)
    : LRScheduler(prepare(optimizer, options), options.last_epoch), options_(std::move(options)) {
  const std::size_t n = optimizer.param_groups().size();
  max_lrs_ = detail::per_group(name(), "max_lr", options_.max_lr, n);
  const double up = options_.step_size_up;
  const double down = options_.step_size_down ? *options_.step_size_down : up;
  total_size_ = up + down;
  step_ratio_ = up / total_size_;
  scale_by_cycle_ =
      options_.scale_fn ? options_.scale_mode == "cycle" : options_.mode != "exp_range";
  if (options_.cycle_momentum) {
    momentum_key_ = detail::momentum_key(name(), optimizer);
    for (const ParamGroup& g : optimizer.param_groups()) {
      base_momentums_.push_back(g.options().get(momentum_key_));
    }
    max_momentums_ = detail::per_group(name(), "max_momentum", options_.max_momentum, n);
  }
  initial_step();
  // As torch: the initial step used the groups' initial_lr; from now on base_lr.
  base_lrs_ = detail::per_group(name(), "base_lr", options_.base_lr, n);
}

CyclicLR::Position CyclicLR::position(std::int64_t epoch) const {
  const double e = static_cast<double>(epoch);
  const double cycle = std::floor(1 + e / total_size_);
  const double x = 1. + e / total_size_ - cycle;
  const double scale_factor = x <= step_ratio_ ? x / step_ratio_ : (x - 1) / (step_ratio_ - 1);
  const double arg = scale_by_cycle_ ? cycle : e;
  double scale = 1.;
  if (options_.scale_fn) {
    scale = options_.scale_fn(arg);
  } else if (options_.mode == "triangular2") {
    scale = 1 / std::pow(2., arg - 1);
  } else if (options_.mode == "exp_range") {
    scale = std::pow(options_.gamma, arg);
  }
  return {scale_factor, scale};
}

std::vector<double> CyclicLR::lr_at(std::int64_t epoch) const {
  const Position p = position(epoch);
  std::vector<double> lrs;
  for (std::size_t i = 0; i < base_lrs_.size() && i < max_lrs_.size(); ++i) {
    const double base_height = (max_lrs_[i] - base_lrs_[i]) * p.scale_factor;
    lrs.push_back(base_lrs_[i] + base_height * p.scale);
  }
  return lrs;
}

std::vector<double> CyclicLR::momentum_at(std::int64_t epoch) const {
  const Position p = position(epoch);
  std::vector<double> out;
  for (std::size_t i = 0; i < base_momentums_.size() && i < max_momentums_.size(); ++i) {
    const double base_height = (max_momentums_[i] - base_momentums_[i]) * p.scale_factor;
    out.push_back(max_momentums_[i] - base_height * p.scale);
  }
  return out;
}

std::vector<double> CyclicLR::get_lr() {
  const std::vector<double> momentums = momentum_at(last_epoch_);
  auto& groups = optimizer().param_groups();
  for (std::size_t i = 0; i < momentums.size() && i < groups.size(); ++i) {
    groups[i].options().set(momentum_key_, momentums[i]);
  }
  return lr_at(last_epoch_);
}

}  // namespace v1
}  // namespace simdoptim
