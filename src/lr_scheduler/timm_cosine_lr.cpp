#include "simdoptim/lr_scheduler/timm_cosine_lr.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

constexpr std::string_view kName = "CosineLRScheduler";

double as_double(std::int64_t v) {
  return static_cast<double>(v);
}

Optimizer& validated(Optimizer& optimizer, const CosineLROptions& o) {
  if (o.t_initial < 1) detail::invalid(kName, "t_initial", "must be > 0", o.t_initial);
  if (!(o.lr_min >= 0.0)) detail::invalid(kName, "lr_min", "must be >= 0", o.lr_min);
  if (!(o.cycle_mul > 0.0)) detail::invalid(kName, "cycle_mul", "must be > 0", o.cycle_mul);
  if (!std::isfinite(o.cycle_decay)) {
    detail::invalid(kName, "cycle_decay", "must be finite", o.cycle_decay);
  }
  if (o.cycle_limit < 1) detail::invalid(kName, "cycle_limit", "must be >= 1", o.cycle_limit);
  if (o.warmup_t < 0) detail::invalid(kName, "warmup_t", "must be >= 0", o.warmup_t);
  if (!(o.warmup_lr_init >= 0.0)) {
    detail::invalid(kName, "warmup_lr_init", "must be >= 0", o.warmup_lr_init);
  }
  if (!(o.k_decay > 0.0)) detail::invalid(kName, "k_decay", "must be > 0", o.k_decay);
  return optimizer;
}

}  // namespace

double timm_cosine_lr_at(double base_lr, std::int64_t t, const CosineLROptions& o) {
  if (t < o.warmup_t) {
    const double warmup_step = (base_lr - o.warmup_lr_init) / as_double(o.warmup_t);
    return o.warmup_lr_init + as_double(t) * warmup_step;
  }
  if (o.warmup_prefix) t = t - o.warmup_t;
  const double tt = as_double(t);
  const double t_initial = as_double(o.t_initial);
  double i = 0;
  double t_i = t_initial;
  double t_curr = 0;
  if (o.cycle_mul != 1) {
    i = std::floor(std::log(1 - tt / t_initial * (1 - o.cycle_mul)) / std::log(o.cycle_mul));
    t_i = std::pow(o.cycle_mul, i) * t_initial;
    t_curr = tt - (1 - std::pow(o.cycle_mul, i)) / (1 - o.cycle_mul) * t_initial;
  } else {
    const std::int64_t cycles = detail::floor_div(t, o.t_initial);
    i = as_double(cycles);
    t_curr = as_double(t - o.t_initial * cycles);
  }
  if (!(i < as_double(o.cycle_limit))) return o.lr_min;
  const double lr_max = base_lr * std::pow(o.cycle_decay, i);
  const double k = o.k_decay;
  return o.lr_min + 0.5 * (lr_max - o.lr_min) *
                        (1 + std::cos(std::numbers::pi * std::pow(t_curr, k) / std::pow(t_i, k)));
}

CosineLRScheduler::CosineLRScheduler(Optimizer& optimizer, CosineLROptions options)
    : Scheduler(validated(optimizer, options)), options_(options) {
  for (ParamGroup& g : optimizer.param_groups()) {
    detail::record_initial_lr(g);
    base_values_.push_back(g.options().get("initial_lr"));
  }
  if (options_.warmup_t > 0) {
    write(std::vector<double>(base_values_.size(), options_.warmup_lr_init));
  } else {
    write(base_values_);
  }
}

void CosineLRScheduler::write(const std::vector<double>& values) {
  auto& groups = optimizer().param_groups();
  for (std::size_t i = 0; i < values.size() && i < groups.size(); ++i) {
    detail::write_lr(groups[i], values[i]);
  }
  record_last_lr();
}

std::vector<double> CosineLRScheduler::lr_at(std::int64_t t) const {
  return detail::map_base(base_values_,
                          [&](double b) { return timm_cosine_lr_at(b, t, options_); });
}

void CosineLRScheduler::step() {
  ++t_;
  write(lr_at(t_));
}

void CosineLRScheduler::step(std::int64_t epoch) {
  if (!options_.t_in_epochs) return;
  t_ = epoch;
  write(lr_at(t_));
}

void CosineLRScheduler::step_update(std::int64_t num_updates) {
  if (options_.t_in_epochs) return;
  t_ = num_updates;
  write(lr_at(t_));
}

std::int64_t CosineLRScheduler::get_cycle_length(std::int64_t cycles) const {
  cycles = std::max<std::int64_t>(1, cycles != 0 ? cycles : options_.cycle_limit);
  if (options_.cycle_mul == 1.0) return options_.t_initial * cycles;
  return static_cast<std::int64_t>(
      std::floor(-as_double(options_.t_initial) *
                 (std::pow(options_.cycle_mul, as_double(cycles)) - 1) / (1 - options_.cycle_mul)));
}

SchedulerState CosineLRScheduler::state_dict() const {
  SchedulerState s = Scheduler::state_dict();
  s.set("t", as_double(t_));
  s.set("base_values", base_values_);
  return s;
}

void CosineLRScheduler::load_state_dict(const SchedulerState& state) {
  Scheduler::load_state_dict(state);
  t_ = detail::to_int(state.scalar("t"));
  base_values_ = state.list("base_values");
}

}  // namespace v1
}  // namespace simdoptim
