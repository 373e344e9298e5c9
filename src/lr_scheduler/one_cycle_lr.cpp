#include "simdoptim/lr_scheduler/one_cycle_lr.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <utility>

#include "lr_scheduler/momentum_key.hpp"
#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

constexpr std::string_view kName = "OneCycleLR";

std::int64_t resolve_total_steps(const OneCycleLROptions& o) {
  if (!o.total_steps && !o.epochs && !o.steps_per_epoch) {
    throw std::invalid_argument(
        "OneCycleLR: you must define either total_steps OR (epochs AND steps_per_epoch)");
  }
  if (o.total_steps) {
    if (*o.total_steps <= 0) {
      detail::invalid(kName, "total_steps", "must be a positive integer", *o.total_steps);
    }
    return *o.total_steps;
  }
  const std::int64_t epochs = o.epochs.value_or(0);
  const std::int64_t per_epoch = o.steps_per_epoch.value_or(0);
  if (epochs <= 0) detail::invalid(kName, "epochs", "must be a positive integer", epochs);
  if (per_epoch <= 0) {
    detail::invalid(kName, "steps_per_epoch", "must be a positive integer", per_epoch);
  }
  return epochs * per_epoch;
}

void validate(Optimizer& optimizer, const OneCycleLROptions& o) {
  resolve_total_steps(o);
  if (!(o.pct_start >= 0.0 && o.pct_start <= 1.0)) {
    detail::invalid(kName, "pct_start", "must be a float between 0 and 1", o.pct_start);
  }
  if (o.anneal_strategy != "cos" && o.anneal_strategy != "linear") {
    detail::invalid(kName, "anneal_strategy", "must be one of 'cos' or 'linear'",
                    "'" + o.anneal_strategy + "'");
  }
  const std::size_t n = optimizer.param_groups().size();
  detail::per_group(kName, "max_lr", o.max_lr, n);
  if (o.cycle_momentum) {
    detail::momentum_key(kName, optimizer);
    detail::per_group(kName, "max_momentum", o.max_momentum, n);
    detail::per_group(kName, "base_momentum", o.base_momentum, n);
  }
}

// Validates, then (when starting) writes initial_lr and max_momentum into the groups before
// the base class reads initial_lr, in torch's order.
Optimizer& prepare(Optimizer& optimizer, const OneCycleLROptions& o) {
  validate(optimizer, o);
  if (o.last_epoch != -1) return optimizer;
  const std::size_t n = optimizer.param_groups().size();
  const std::vector<double> max_lrs = detail::per_group(kName, "max_lr", o.max_lr, n);
  for (std::size_t i = 0; i < n; ++i) {
    optimizer.param_groups()[i].options().set("initial_lr", max_lrs[i] / o.div_factor);
  }
  if (o.cycle_momentum) {
    const std::string key = detail::momentum_key(kName, optimizer);
    const std::vector<double> max_m = detail::per_group(kName, "max_momentum", o.max_momentum, n);
    for (std::size_t i = 0; i < n; ++i) optimizer.param_groups()[i].options().set(key, max_m[i]);
  }
  return optimizer;
}

}  // namespace

OneCycleLR::OneCycleLR(Optimizer& optimizer, OneCycleLROptions options)
    : LRScheduler(prepare(optimizer, options), options.last_epoch),
      options_(std::move(options)),
      total_steps_(resolve_total_steps(options_)) {
  const double total = static_cast<double>(total_steps_);
  const double pct = options_.pct_start;
  if (options_.three_phase) {
    phases_ = {
        {pct * total - 1, 0, 1, 0, 1}, {2 * pct * total - 2, 1, 0, 1, 0}, {total - 1, 0, 2, 0, 0}};
  } else {
    phases_ = {{pct * total - 1, 0, 1, 0, 1}, {total - 1, 1, 2, 1, 0}};
  }
  const std::size_t n = optimizer.param_groups().size();
  const std::vector<double> max_lrs = detail::per_group(name(), "max_lr", options_.max_lr, n);
  for (std::size_t i = 0; i < n; ++i) {
    const double initial = max_lrs[i] / options_.div_factor;
    lr_points_.push_back({initial, max_lrs[i], initial / options_.final_div_factor});
  }
  if (options_.cycle_momentum) {
    momentum_key_ = detail::momentum_key(name(), optimizer);
    const auto max_m = detail::per_group(name(), "max_momentum", options_.max_momentum, n);
    const auto base_m = detail::per_group(name(), "base_momentum", options_.base_momentum, n);
    for (std::size_t i = 0; i < n; ++i) momentum_points_.push_back({max_m[i], base_m[i]});
  }
  // The first phase has zero length when pct_start * total_steps == 1: torch divides by zero
  // on the initial step. Refuse it here, before any step.
  position(last_epoch_ + 1);
  initial_step();
}

OneCycleLR::Position OneCycleLR::position(std::int64_t step_num) const {
  const double s = static_cast<double>(step_num);
  double start_step = 0;
  for (std::size_t i = 0; i < phases_.size(); ++i) {
    const double end_step = phases_[i].end_step;
    if (s <= end_step || i + 1 == phases_.size()) {
      if (end_step == start_step) {
        throw std::invalid_argument(detail::message(
            "OneCycleLR: total_steps ", total_steps_, " is too small for pct_start ",
            options_.pct_start, ": phase ", i, " has zero length at step ", step_num));
      }
      return {i, (s - start_step) / (end_step - start_step)};
    }
    start_step = end_step;
  }
  return {phases_.size() - 1, 0.0};  // unreachable: the last phase always matches
}

double OneCycleLR::anneal(double start, double end, double pct) const {
  if (options_.anneal_strategy == "cos") {
    const double cos_out = std::cos(std::numbers::pi * pct) + 1;
    return end + (start - end) / 2.0 * cos_out;
  }
  return (end - start) * pct + start;
}

void OneCycleLR::check_step(std::int64_t step_num) const {
  if (step_num > total_steps_) {
    throw std::out_of_range(detail::message("OneCycleLR: tried to step ", step_num + 1,
                                            " times; the specified total_steps is ", total_steps_));
  }
}

void OneCycleLR::step() {
  check_step(last_epoch_ + 1);
  LRScheduler::step();
}

void OneCycleLR::step(std::int64_t epoch) {
  check_step(epoch);
  LRScheduler::step(epoch);
}

std::vector<double> OneCycleLR::lr_at(std::int64_t step_num) const {
  check_step(step_num);
  const Position p = position(step_num);
  const Phase& ph = phases_[p.phase];
  return anneal_each(lr_points_, ph.start_lr, ph.end_lr, p.pct);
}

std::vector<double> OneCycleLR::momentum_at(std::int64_t step_num) const {
  check_step(step_num);
  const Position p = position(step_num);
  const Phase& ph = phases_[p.phase];
  return anneal_each(momentum_points_, ph.start_momentum, ph.end_momentum, p.pct);
}

template <std::size_t N>
std::vector<double> OneCycleLR::anneal_each(const std::vector<std::array<double, N>>& points,
                                            std::size_t start, std::size_t end, double pct) const {
  std::vector<double> out;
  for (const auto& pts : points) out.push_back(anneal(pts[start], pts[end], pct));
  return out;
}

std::vector<double> OneCycleLR::get_lr() {
  auto& groups = optimizer().param_groups();
  if (groups.size() > lr_points_.size()) {
    // torch raises KeyError: the new group has no max_lr.
    throw std::out_of_range(detail::message("OneCycleLR: param_groups[", lr_points_.size(),
                                            "] was added after the scheduler was built"));
  }
  const std::vector<double> momentums = momentum_at(last_epoch_);
  for (std::size_t i = 0; i < momentums.size(); ++i) {
    groups[i].options().set(momentum_key_, momentums[i]);
  }
  return lr_at(last_epoch_);
}

SchedulerState OneCycleLR::state_dict() const {
  SchedulerState s = LRScheduler::state_dict();
  s.set("total_steps", static_cast<double>(total_steps_));
  return s;
}

void OneCycleLR::load_state_dict(const SchedulerState& state) {
  if (detail::to_int(state.scalar("total_steps")) != total_steps_) {
    detail::invalid(name(), "state total_steps", "must equal this scheduler's total_steps",
                    state.scalar("total_steps"));
  }
  LRScheduler::load_state_dict(state);
}

}  // namespace v1
}  // namespace simdoptim
