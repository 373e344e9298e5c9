#include "simdoptim/lr_scheduler/reduce_lr_on_plateau.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

ReduceLROnPlateau::ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options)
    : optimizer_(&optimizer), options_(std::move(options)) {
  const ReduceLROnPlateauOptions& o = options_;
  if (!(o.factor < 1.0)) detail::invalid(name(), "factor", "should be < 1.0", o.factor);
  if (o.mode != "min" && o.mode != "max") {
    detail::invalid(name(), "mode", "must be 'min' or 'max'", "'" + o.mode + "'");
  }
  if (o.threshold_mode != "rel" && o.threshold_mode != "abs") {
    detail::invalid(name(), "threshold_mode", "must be 'rel' or 'abs'",
                    "'" + o.threshold_mode + "'");
  }
  if (o.patience < 0) detail::invalid(name(), "patience", "must be >= 0", o.patience);
  if (o.cooldown < 0) detail::invalid(name(), "cooldown", "must be >= 0", o.cooldown);
  if (!(o.threshold >= 0.0)) detail::invalid(name(), "threshold", "must be >= 0", o.threshold);
  if (!(o.eps >= 0.0)) detail::invalid(name(), "eps", "must be >= 0", o.eps);
  min_lrs_ = detail::per_group(name(), "min_lr", o.min_lr, optimizer.param_groups().size());
  minimize_ = o.mode == "min";
  relative_ = o.threshold_mode == "rel";
  best_ = minimize_ ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
}

bool ReduceLROnPlateau::is_better(double a, double best) const noexcept {
  const double t = options_.threshold;
  if (minimize_) return relative_ ? a < best * (1. - t) : a < best - t;
  return relative_ ? a > best * (t + 1.) : a > best + t;
}

void ReduceLROnPlateau::step(double metric) {
  if (std::isnan(metric)) detail::invalid(name(), "metric", "must not be NaN", metric);
  ++last_epoch_;
  if (is_better(metric, best_)) {
    best_ = metric;
    num_bad_epochs_ = 0;
  } else {
    ++num_bad_epochs_;
  }
  if (cooldown_counter_ > 0) {
    --cooldown_counter_;
    num_bad_epochs_ = 0;  // bad epochs during cooldown do not count
  }
  if (num_bad_epochs_ > options_.patience) {
    reduce_lr();
    cooldown_counter_ = options_.cooldown;
    num_bad_epochs_ = 0;
  }
  last_lr_.clear();
  for (const ParamGroup& g : optimizer_->param_groups()) last_lr_.push_back(g.lr());
}

void ReduceLROnPlateau::reduce_lr() {
  auto& groups = optimizer_->param_groups();
  if (groups.size() > min_lrs_.size()) {
    // torch raises IndexError: min_lrs has one entry per group present at construction.
    throw std::out_of_range(detail::message("ReduceLROnPlateau: param_groups[", min_lrs_.size(),
                                            "] was added after the scheduler was built"));
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const double old_lr = detail::unscaled_lr(groups[i]);
    const double new_lr = std::max(old_lr * options_.factor, min_lrs_[i]);
    if (old_lr - new_lr > options_.eps) detail::write_lr(groups[i], new_lr);
  }
}

SchedulerState ReduceLROnPlateau::state_dict() const {
  SchedulerState s;
  s.kind = std::string(name());
  s.set("best", best_);
  s.set("num_bad_epochs", static_cast<double>(num_bad_epochs_));
  s.set("cooldown_counter", static_cast<double>(cooldown_counter_));
  s.set("last_epoch", static_cast<double>(last_epoch_));
  s.set("_last_lr", last_lr_);
  return s;
}

void ReduceLROnPlateau::load_state_dict(const SchedulerState& state) {
  detail::check_kind(name(), state.kind);
  best_ = state.scalar("best");
  num_bad_epochs_ = detail::to_int(state.scalar("num_bad_epochs"));
  cooldown_counter_ = detail::to_int(state.scalar("cooldown_counter"));
  last_epoch_ = detail::to_int(state.scalar("last_epoch"));
  last_lr_ = state.list("_last_lr");
}

}  // namespace v1
}  // namespace simdoptim
