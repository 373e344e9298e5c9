#pragma once
/// The scheduler base classes and their checkpoint state, as torch.optim.lr_scheduler._LRScheduler.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// A scheduler's checkpoint (torch: the dict of state_dict()). Every value is a list of doubles
/// (a scalar is a list of one; integers up to 2^53 are exact). Composite schedulers keep their
/// children's states in `children`, in order. Constructor arguments are configuration, not state:
/// load a state into a scheduler built with the same arguments (torch restores them too).
struct SchedulerState {
  /// The scheduler's name() (load_state_dict refuses a state of another kind).
  std::string kind;
  /// Named values, e.g. "last_epoch" -> {7}, "base_lrs" -> {0.1, 0.01}.
  std::map<std::string, std::vector<double>, std::less<>> values;
  /// The states of the wrapped schedulers (SequentialLR, ChainedScheduler, WarmupLR).
  std::vector<SchedulerState> children;

  /// values[key] = {value}.
  void set(std::string_view key, double value);
  /// values[key] = list.
  void set(std::string_view key, std::vector<double> list);
  /// The list stored under `key`; throws std::out_of_range naming the key when absent.
  const std::vector<double>& list(std::string_view key) const;
  /// The single value stored under `key`; throws std::out_of_range when absent or not a scalar.
  double scalar(std::string_view key) const;

  bool operator==(const SchedulerState&) const = default;
};

/// What every scheduler offers: the optimizer it drives, torch's get_last_lr() and a checkpoint.
///
/// lr_scale (timm's layer-wise decay): when a group carries `lr_scale`, every scheduler computes
/// torch's sequence on the unscaled lr and writes `lr = value * lr_scale` into the group. The
/// group's `lr` before a scheduler first records its `initial_lr` is taken as the unscaled base
/// (timm convention); from then on the group's `lr` includes the scale, and the recursive
/// (chainable) forms read `lr / lr_scale` as the previous value. See docs/lr_scheduler.md.
class Scheduler {
 public:
  virtual ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  /// Class name as torch spells it ("StepLR", "OneCycleLR", ...).
  virtual std::string_view name() const noexcept = 0;
  /// Advances the schedule by one step (torch: scheduler.step()).
  virtual void step() = 0;
  /// The lr of every group after the last step, as written (torch: get_last_lr()).
  const std::vector<double>& get_last_lr() const noexcept { return last_lr_; }
  /// The optimizer this scheduler drives.
  Optimizer& optimizer() const noexcept { return *optimizer_; }

  /// Everything needed to continue the exact sequence (torch: state_dict()).
  virtual SchedulerState state_dict() const;
  /// Restores a state_dict() of a scheduler built with the same arguments (torch:
  /// load_state_dict()). Does not touch the optimizer, as torch: restore its lrs separately (or
  /// let the next step() write them). Throws std::invalid_argument on a state of another kind.
  virtual void load_state_dict(const SchedulerState& state);

 protected:
  explicit Scheduler(Optimizer& optimizer) : optimizer_(&optimizer) {}
  /// last_lr_ = every group's current lr (torch: `[group['lr'] for group in param_groups]`).
  void record_last_lr();

  std::vector<double> last_lr_;

 private:
  Optimizer* optimizer_;
};

class SequentialLR;

/// torch's _LRScheduler: an epoch counter `last_epoch`, per-group `base_lrs` (the groups'
/// `initial_lr`) and a step that writes get_lr() into the groups. Construction with
/// last_epoch = -1 records `initial_lr` in every group that lacks it and performs the initial
/// step (last_epoch becomes 0); another last_epoch resumes and requires `initial_lr`.
///
/// Groups added after construction: as torch, the recursive forms (those reading the group's
/// current lr) update every group, while the forms computed from base_lrs (or from per-group
/// arguments) update only the groups that existed at construction.
class LRScheduler : public Scheduler {
 public:
  /// scheduler.step(): last_epoch += 1, then writes the chainable form get_lr().
  void step() override;
  /// torch's deprecated scheduler.step(epoch): last_epoch = epoch, then writes the closed form
  /// when the scheduler has one, else the chainable form.
  virtual void step(std::int64_t epoch);

  /// The index of the last step (torch: last_epoch).
  std::int64_t last_epoch() const noexcept { return last_epoch_; }
  /// Per-group base lrs (torch: base_lrs).
  const std::vector<double>& base_lrs() const noexcept { return base_lrs_; }

  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 protected:
  LRScheduler(Optimizer& optimizer, std::int64_t last_epoch);

  /// torch's _initial_step(): step count 0, then step(). The final class's constructor calls it.
  void initial_step();
  /// The chainable form for the current last_epoch (torch: get_lr()).
  virtual std::vector<double> get_lr() = 0;
  /// The closed form for the current last_epoch, when torch has one (_get_closed_form_lr()).
  virtual std::optional<std::vector<double>> closed_form_lr() const { return std::nullopt; }
  /// Writes `values[i]` (times lr_scale) into group i for every i present in both, then records
  /// get_last_lr().
  void apply(const std::vector<double>& values);
  /// The unscaled current lr of every group (torch: `group['lr']`).
  std::vector<double> group_lrs() const;

  std::int64_t last_epoch_;
  std::int64_t step_count_ = 0;
  std::vector<double> base_lrs_;

 private:
  friend class SequentialLR;
};

}  // namespace v1
}  // namespace simdoptim
