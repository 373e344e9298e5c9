#include "simdoptim/lr_scheduler/scheduler.hpp"

#include <cmath>
#include <stdexcept>
#include <utility>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim::detail {

double unscaled_lr(const ParamGroup& group) {
  const GroupOptions& o = group.options();
  return o.contains("lr_scale") ? o.get("lr") / o.get("lr_scale") : o.get("lr");
}

void write_lr(ParamGroup& group, double value) {
  const GroupOptions& o = group.options();
  group.set_lr(o.contains("lr_scale") ? value * o.get("lr_scale") : value);
}

void record_initial_lr(ParamGroup& group) {
  GroupOptions& o = group.options();
  if (o.contains("initial_lr")) return;
  const double lr = o.get("lr");
  o.set("initial_lr", lr);
  write_lr(group, lr);
}

std::vector<double> initial_lrs(const Optimizer& optimizer, std::string_view scheduler) {
  std::vector<double> out;
  std::size_t i = 0;
  for (const ParamGroup& g : optimizer.param_groups()) {
    if (!g.options().contains("initial_lr")) {
      throw std::invalid_argument(message(scheduler,
                                          ": param 'initial_lr' is not specified in "
                                          "param_groups[",
                                          i, "] when resuming (last_epoch != -1)"));
    }
    out.push_back(g.options().get("initial_lr"));
    ++i;
  }
  return out;
}

std::vector<double> per_group(std::string_view scheduler, std::string_view param,
                              const std::vector<double>& values, std::size_t groups) {
  if (values.size() == 1) return std::vector<double>(groups, values[0]);
  if (values.size() != groups) {
    throw std::invalid_argument(message(scheduler, ": expected 1 or ", groups, " values for ",
                                        param, ", got ", values.size()));
  }
  return values;
}

void check_kind(std::string_view kind, std::string_view state_kind) {
  if (kind != state_kind) {
    throw std::invalid_argument(
        message(kind, ": load_state_dict got a state of kind '", state_kind, "'"));
  }
}

std::int64_t to_int(double value) {
  if (!(std::isfinite(value) && value == std::floor(value))) {
    throw std::invalid_argument(message("scheduler state: expected an integer, got ", value));
  }
  // Beyond 2^53 a double holds no exact count, and the cast of a larger one is undefined.
  constexpr double kLimit = 9007199254740992.0;
  if (!(value >= -kLimit && value <= kLimit)) {
    throw std::invalid_argument(
        message("scheduler state: ", value, " is out of range (|x| <= 2^53)"));
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace simdoptim::detail

namespace simdoptim {
inline namespace v1 {

void SchedulerState::set(std::string_view key, double value) {
  values.insert_or_assign(std::string(key), std::vector<double>{value});
}

void SchedulerState::set(std::string_view key, std::vector<double> list) {
  values.insert_or_assign(std::string(key), std::move(list));
}

const std::vector<double>& SchedulerState::list(std::string_view key) const {
  const auto it = values.find(key);
  if (it == values.end()) {
    throw std::out_of_range(detail::message(kind, " state: no key '", key, "'"));
  }
  return it->second;
}

double SchedulerState::scalar(std::string_view key) const {
  const std::vector<double>& v = list(key);
  if (v.size() != 1) {
    throw std::out_of_range(
        detail::message(kind, " state: key '", key, "' holds ", v.size(), " values, not 1"));
  }
  return v[0];
}

Scheduler::~Scheduler() = default;

void Scheduler::record_last_lr() {
  last_lr_.clear();
  for (const ParamGroup& g : optimizer_->param_groups()) last_lr_.push_back(g.lr());
}

SchedulerState Scheduler::state_dict() const {
  SchedulerState s;
  s.kind = std::string(name());
  s.set("_last_lr", last_lr_);
  return s;
}

void Scheduler::load_state_dict(const SchedulerState& state) {
  detail::check_kind(name(), state.kind);
  last_lr_ = state.list("_last_lr");
}

LRScheduler::LRScheduler(Optimizer& optimizer, std::int64_t last_epoch)
    : Scheduler(optimizer), last_epoch_(last_epoch) {
  if (last_epoch == -1) {
    for (ParamGroup& g : optimizer.param_groups()) detail::record_initial_lr(g);
  }
  // Checked for both paths; after recording, every group has one.
  base_lrs_ = detail::initial_lrs(optimizer, "LRScheduler");
}

void LRScheduler::initial_step() {
  step_count_ = 0;
  step();
}

void LRScheduler::step() {
  ++step_count_;
  ++last_epoch_;
  apply(get_lr());
}

void LRScheduler::step(std::int64_t epoch) {
  ++step_count_;
  last_epoch_ = epoch;
  std::optional<std::vector<double>> closed = closed_form_lr();
  apply(closed ? *closed : get_lr());
}

void LRScheduler::apply(const std::vector<double>& values) {
  auto& groups = optimizer().param_groups();
  for (std::size_t i = 0; i < values.size() && i < groups.size(); ++i) {
    detail::write_lr(groups[i], values[i]);
  }
  record_last_lr();
}

std::vector<double> LRScheduler::group_lrs() const {
  std::vector<double> out;
  for (const ParamGroup& g : optimizer().param_groups()) out.push_back(detail::unscaled_lr(g));
  return out;
}

SchedulerState LRScheduler::state_dict() const {
  SchedulerState s = Scheduler::state_dict();
  s.set("last_epoch", static_cast<double>(last_epoch_));
  s.set("_step_count", static_cast<double>(step_count_));
  s.set("base_lrs", base_lrs_);
  return s;
}

void LRScheduler::load_state_dict(const SchedulerState& state) {
  Scheduler::load_state_dict(state);
  last_epoch_ = detail::to_int(state.scalar("last_epoch"));
  step_count_ = detail::to_int(state.scalar("_step_count"));
  base_lrs_ = state.list("base_lrs");
}

}  // namespace v1
}  // namespace simdoptim
