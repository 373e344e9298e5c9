#pragma once
/// ReduceLROnPlateau: cut the lr when a monitored metric stops improving.
#include <cstdint>
#include <string>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// ReduceLROnPlateau arguments with torch's defaults.
struct ReduceLROnPlateauOptions {
  /// "min" (the metric should decrease) or "max".
  std::string mode = "min";
  /// new_lr = lr * factor, factor < 1.
  double factor = 0.1;
  /// Bad epochs tolerated before reducing (>= 0).
  std::int64_t patience = 10;
  /// Significance threshold for a new best (>= 0).
  double threshold = 1e-4;
  /// "rel": best * (1 -/+ threshold); "abs": best -/+ threshold.
  std::string threshold_mode = "rel";
  /// Epochs to wait after a reduction before counting bad epochs again (>= 0).
  std::int64_t cooldown = 0;
  /// Lower bound on the lr: one value for every group or one per group.
  std::vector<double> min_lr = {0.0};
  /// A reduction smaller than eps is skipped (>= 0).
  double eps = 1e-8;
};

/// torch.optim.lr_scheduler.ReduceLROnPlateau. step(metric):
///   better = mode/threshold_mode test against best (min+rel: metric < best * (1 - threshold));
///   better ? (best = metric, bad = 0) : ++bad;
///   in cooldown: --cooldown_counter, bad = 0;
///   bad > patience: lr_i = max(lr_i * factor, min_lr_i) when lr_i - new > eps;
///                   cooldown_counter = cooldown, bad = 0.
/// Not a Scheduler (its step needs the metric), as torch's is not an _LRScheduler.
class ReduceLROnPlateau {
 public:
  /// Throws std::invalid_argument on factor >= 1, an unknown mode or threshold_mode, negative
  /// patience/cooldown/threshold/eps, or a min_lr list of the wrong length.
  explicit ReduceLROnPlateau(Optimizer& optimizer, ReduceLROnPlateauOptions options = {});

  /// "ReduceLROnPlateau".
  std::string_view name() const noexcept { return "ReduceLROnPlateau"; }
  /// One epoch's metric. Throws std::invalid_argument on NaN (torch silently counts it as a
  /// bad epoch, which hides a diverged run).
  void step(double metric);
  /// The lr of every group after the last step (torch: _last_lr; empty before the first step,
  /// where torch has no attribute).
  const std::vector<double>& get_last_lr() const noexcept { return last_lr_; }
  /// The optimizer this scheduler drives.
  Optimizer& optimizer() const noexcept { return *optimizer_; }
  /// Whether `a` improves on `best` under mode and threshold (torch: is_better).
  bool is_better(double a, double best) const noexcept;
  /// Best metric so far (+/-inf before the first step).
  double best() const noexcept { return best_; }
  /// Consecutive epochs without improvement.
  std::int64_t num_bad_epochs() const noexcept { return num_bad_epochs_; }
  /// Epochs of cooldown left.
  std::int64_t cooldown_counter() const noexcept { return cooldown_counter_; }
  /// Epochs stepped.
  std::int64_t last_epoch() const noexcept { return last_epoch_; }

  /// best, num_bad_epochs, cooldown_counter, last_epoch, _last_lr.
  SchedulerState state_dict() const;
  /// Restores state_dict() of a scheduler built with the same options.
  void load_state_dict(const SchedulerState& state);

 private:
  void reduce_lr();

  Optimizer* optimizer_;
  ReduceLROnPlateauOptions options_;
  std::vector<double> min_lrs_;
  bool minimize_;
  bool relative_;
  double best_;
  std::int64_t num_bad_epochs_ = 0;
  std::int64_t cooldown_counter_ = 0;
  std::int64_t last_epoch_ = 0;
  std::vector<double> last_lr_;
};

}  // namespace v1
}  // namespace simdoptim
