#include "simdoptim/lr_scheduler/composite_lr.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

template <typename Child>
Optimizer& common_optimizer(std::string_view scheduler, const std::vector<Child>& children) {
  if (children.empty()) detail::invalid(scheduler, "schedulers", "must not be empty", "[]");
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (!children[i]) {
      detail::invalid(scheduler, detail::message("schedulers[", i, "]"), "must not be null",
                      "nullptr");
    }
    if (&children[i]->optimizer() != &children[0]->optimizer()) {
      throw std::invalid_argument(
          detail::message(scheduler,
                          ": expects all schedulers to belong to the same optimizer, "
                          "but schedulers[0] and schedulers[",
                          i, "] differ"));
    }
  }
  return children[0]->optimizer();
}

// Saves the children's states after the parent's own.
template <typename Child>
SchedulerState with_children(SchedulerState s, const std::vector<Child>& children) {
  for (const auto& c : children) s.children.push_back(c->state_dict());
  return s;
}

template <typename Child>
void load_children(std::string_view scheduler, const SchedulerState& state,
                   const std::vector<Child>& children) {
  if (state.children.size() != children.size()) {
    detail::invalid(scheduler, "state children",
                    detail::message("must hold ", children.size(), " scheduler states"),
                    state.children.size());
  }
  for (std::size_t i = 0; i < children.size(); ++i) {
    children[i]->load_state_dict(state.children[i]);
  }
}

}  // namespace

SequentialLR::SequentialLR(Optimizer& optimizer,
                           std::vector<std::unique_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones, std::int64_t last_epoch)
    : Scheduler(optimizer),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)),
      last_epoch_(last_epoch + 1) {
  if (&common_optimizer(name(), schedulers_) != &optimizer) {
    throw std::invalid_argument(
        "SequentialLR: expects all schedulers to belong to the optimizer passed in");
  }
  if (milestones_.size() + 1 != schedulers_.size()) {
    throw std::invalid_argument(detail::message(
        "SequentialLR: expects number of schedulers provided to be one more than the number of "
        "milestone points, but got number of schedulers ",
        schedulers_.size(), " and the number of milestones to be equal to ", milestones_.size()));
  }
  for (std::size_t i = 1; i < milestones_.size(); ++i) {
    if (milestones_[i] <= milestones_[i - 1]) {
      detail::invalid(name(), detail::message("milestones[", i, "]"),
                      detail::message("must be greater than milestones[", i - 1,
                                      "] = ", milestones_[i - 1], " (increasing)"),
                      milestones_[i]);
    }
  }
  for (ParamGroup& g : optimizer.param_groups()) detail::write_lr(g, g.options().get("initial_lr"));
  // "Undo" the initial steps of the children, then redo only the first one's.
  for (auto& s : schedulers_) --s->last_epoch_;
  schedulers_[0]->initial_step();
  last_lr_ = schedulers_[0]->get_last_lr();
}

void SequentialLR::step() {
  ++last_epoch_;
  const auto idx = static_cast<std::size_t>(
      std::upper_bound(milestones_.begin(), milestones_.end(), last_epoch_) - milestones_.begin());
  LRScheduler& scheduler = *schedulers_[idx];
  if (idx > 0 && milestones_[idx - 1] == last_epoch_) {
    scheduler.step(std::int64_t{0});
  } else {
    scheduler.step();
  }
  last_lr_ = scheduler.get_last_lr();
}

SchedulerState SequentialLR::state_dict() const {
  SchedulerState s = Scheduler::state_dict();
  s.set("last_epoch", static_cast<double>(last_epoch_));
  return with_children(std::move(s), schedulers_);
}

void SequentialLR::load_state_dict(const SchedulerState& state) {
  Scheduler::load_state_dict(state);
  load_children(name(), state, schedulers_);
  last_epoch_ = detail::to_int(state.scalar("last_epoch"));
}

ChainedScheduler::ChainedScheduler(std::vector<std::unique_ptr<Scheduler>> schedulers)
    : Scheduler(common_optimizer("ChainedScheduler", schedulers)),
      schedulers_(std::move(schedulers)) {
  record_last_lr();
}

void ChainedScheduler::step() {
  for (auto& s : schedulers_) s->step();
  record_last_lr();
}

SchedulerState ChainedScheduler::state_dict() const {
  return with_children(Scheduler::state_dict(), schedulers_);
}

void ChainedScheduler::load_state_dict(const SchedulerState& state) {
  Scheduler::load_state_dict(state);
  load_children(name(), state, schedulers_);
}

}  // namespace v1
}  // namespace simdoptim
