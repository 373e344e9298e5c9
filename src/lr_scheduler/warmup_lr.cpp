#include "simdoptim/lr_scheduler/warmup_lr.hpp"

#include <cmath>
#include <utility>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

Optimizer& optimizer_of(const std::unique_ptr<Scheduler>& after) {
  if (!after) detail::invalid("WarmupLR", "after", "must not be null", "nullptr");
  return after->optimizer();
}

}  // namespace

WarmupLR::WarmupLR(std::unique_ptr<Scheduler> after, std::int64_t warmup_steps,
                   double warmup_lr_init)
    : Scheduler(optimizer_of(after)), after_(std::move(after)), warmup_steps_(warmup_steps) {
  if (warmup_steps < 0) detail::invalid(name(), "warmup_steps", "must be >= 0", warmup_steps);
  if (!(warmup_lr_init >= 0.0 && std::isfinite(warmup_lr_init))) {
    detail::invalid(name(), "warmup_lr_init", "must be finite and >= 0", warmup_lr_init);
  }
  for (const ParamGroup& g : optimizer().param_groups()) {
    starts_.push_back(warmup_lr_init * g.options().get_or("lr_scale", 1.0));
    targets_.push_back(g.lr());
  }
  if (warmup_steps_ > 0) {
    write(warmup_lr_at(0));
  } else {
    record_last_lr();
  }
}

std::vector<double> WarmupLR::warmup_lr_at(std::int64_t t) const {
  std::vector<double> out;
  const double w = static_cast<double>(warmup_steps_);
  for (std::size_t i = 0; i < starts_.size(); ++i) {
    out.push_back(starts_[i] + static_cast<double>(t) * ((targets_[i] - starts_[i]) / w));
  }
  return out;
}

void WarmupLR::write(const std::vector<double>& lrs) {
  auto& groups = optimizer().param_groups();
  for (std::size_t i = 0; i < lrs.size() && i < groups.size(); ++i) groups[i].set_lr(lrs[i]);
  record_last_lr();
}

void WarmupLR::step() {
  ++t_;
  if (t_ < warmup_steps_) {
    write(warmup_lr_at(t_));
  } else if (t_ == warmup_steps_) {
    write(targets_);
  } else {
    after_->step();
    record_last_lr();
  }
}

SchedulerState WarmupLR::state_dict() const {
  SchedulerState s = Scheduler::state_dict();
  s.set("t", static_cast<double>(t_));
  s.set("starts", starts_);
  s.set("targets", targets_);
  s.children.push_back(after_->state_dict());
  return s;
}

void WarmupLR::load_state_dict(const SchedulerState& state) {
  Scheduler::load_state_dict(state);
  if (state.children.size() != 1) {
    detail::invalid(name(), "state children", "must hold 1 scheduler state", state.children.size());
  }
  after_->load_state_dict(state.children[0]);
  t_ = detail::to_int(state.scalar("t"));
  starts_ = state.list("starts");
  targets_ = state.list("targets");
}

}  // namespace v1
}  // namespace simdoptim
