#pragma once
/// SequentialLR and ChainedScheduler: schedulers built from other schedulers.
#include <cstdint>
#include <memory>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// torch.optim.lr_scheduler.SequentialLR: scheduler k drives epochs [milestones[k-1],
/// milestones[k]). Construction resets every group's lr to its initial_lr, rewinds every child
/// by one epoch and redoes the first child's initial step; at a milestone the next child is
/// stepped with step(0) (its closed form when it has one).
class SequentialLR final : public Scheduler {
 public:
  /// Takes ownership of the children (built on `optimizer`, in order). Throws
  /// std::invalid_argument when there are none, a child drives another optimizer, or
  /// milestones are not schedulers.size() - 1 strictly increasing values.
  SequentialLR(Optimizer& optimizer, std::vector<std::unique_ptr<LRScheduler>> schedulers,
               std::vector<std::int64_t> milestones, std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "SequentialLR"; }
  void step() override;
  /// The epoch counter (torch: last_epoch).
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  /// The children, in order.
  const std::vector<std::unique_ptr<LRScheduler>>& schedulers() const noexcept {
    return schedulers_;
  }

  /// last_epoch and _last_lr, with the children's states in order.
  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 private:
  std::vector<std::unique_ptr<LRScheduler>> schedulers_;
  std::vector<std::int64_t> milestones_;
  std::int64_t last_epoch_;
};

/// torch.optim.lr_scheduler.ChainedScheduler: step() steps every child in order, so their
/// chainable forms compose (e.g. ConstantLR then ExponentialLR multiply). No initial step.
class ChainedScheduler final : public Scheduler {
 public:
  /// Takes ownership of the children. Throws std::invalid_argument when there are none or they
  /// drive different optimizers.
  explicit ChainedScheduler(std::vector<std::unique_ptr<Scheduler>> schedulers);
  std::string_view name() const noexcept override { return "ChainedScheduler"; }
  void step() override;
  /// The children, in order.
  const std::vector<std::unique_ptr<Scheduler>>& schedulers() const noexcept { return schedulers_; }

  /// _last_lr, with the children's states in order.
  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 private:
  std::vector<std::unique_ptr<Scheduler>> schedulers_;
};

}  // namespace v1
}  // namespace simdoptim
