#pragma once
/// OneCycleLR: the 1cycle policy (warm up to max_lr, anneal far below the initial lr).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// OneCycleLR arguments with torch's defaults. Per-group values hold one value for every group
/// or one per group. Give total_steps, or epochs and steps_per_epoch.
struct OneCycleLROptions {
  /// Peak lr (required).
  std::vector<double> max_lr;
  /// Steps in the cycle; when empty, epochs * steps_per_epoch.
  std::optional<std::int64_t> total_steps = std::nullopt;
  std::optional<std::int64_t> epochs = std::nullopt;
  std::optional<std::int64_t> steps_per_epoch = std::nullopt;
  /// Fraction of the cycle spent increasing the lr, in [0, 1].
  double pct_start = 0.3;
  /// "cos" or "linear".
  std::string anneal_strategy = "cos";
  /// Cycle momentum (SGD's momentum or Adam's beta1) inversely to the lr.
  bool cycle_momentum = true;
  std::vector<double> base_momentum = {0.85};
  std::vector<double> max_momentum = {0.95};
  /// initial_lr = max_lr / div_factor.
  double div_factor = 25.;
  /// min_lr = initial_lr / final_div_factor.
  double final_div_factor = 1e4;
  /// Three phases (up, symmetric down to initial_lr, then down to min_lr) instead of two.
  bool three_phase = false;
  /// Index of the last batch; -1 starts the schedule.
  std::int64_t last_epoch = -1;
};

/// torch.optim.lr_scheduler.OneCycleLR (1.13). Phases end at steps pct_start * T - 1,
/// (2 pct_start T - 2 with three_phase) and T - 1; in a phase from step a to b the lr goes from
/// its start to its end value with pct = (step - a) / (b - a) and
///   cos:    end + (start - end) / 2 * (cos(pi * pct) + 1),
///   linear: (end - start) * pct + start;
/// momentum (or beta1) moves oppositely between max_momentum and base_momentum.
/// Construction writes initial_lr = max_lr / div_factor into every group (overwriting, as torch)
/// and keeps max_lr, min_lr and the momentum bounds in the scheduler (torch stores them in the
/// group dict).
class OneCycleLR final : public LRScheduler {
 public:
  /// Throws std::invalid_argument on missing or non-positive total_steps/epochs/
  /// steps_per_epoch, pct_start outside [0, 1], an unknown anneal_strategy, a per-group list of
  /// the wrong length, cycle_momentum without momentum/beta1, or a total_steps too small for
  /// pct_start (the first phase would have zero length, which torch divides by).
  OneCycleLR(Optimizer& optimizer, OneCycleLROptions options);
  std::string_view name() const noexcept override { return "OneCycleLR"; }
  /// Throws std::out_of_range when the step would pass total_steps (torch raises ValueError
  /// after incrementing last_epoch; here nothing changes).
  void step() override;
  /// As step(), at an explicit step index.
  void step(std::int64_t epoch) override;
  /// The cycle length.
  std::int64_t total_steps() const noexcept { return total_steps_; }
  /// The lr of every group at step `step_num` (0 <= step_num <= total_steps), without stepping.
  std::vector<double> lr_at(std::int64_t step_num) const;
  /// The momentum (or beta1) of every group at `step_num`; empty without cycle_momentum.
  std::vector<double> momentum_at(std::int64_t step_num) const;

  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 private:
  struct Phase {
    double end_step;
    std::size_t start_lr;  // index into lr_points_: 0 initial, 1 max, 2 min
    std::size_t end_lr;
    std::size_t start_momentum;  // index into momentum_points_: 0 max, 1 base
    std::size_t end_momentum;
  };
  struct Position {
    std::size_t phase;
    double pct;
  };
  Position position(std::int64_t step_num) const;
  double anneal(double start, double end, double pct) const;
  template <std::size_t N>
  std::vector<double> anneal_each(const std::vector<std::array<double, N>>& points,
                                  std::size_t start, std::size_t end, double pct) const;
  std::vector<double> get_lr() override;
  void check_step(std::int64_t step_num) const;

  OneCycleLROptions options_;
  std::int64_t total_steps_;
  std::vector<Phase> phases_;
  std::string momentum_key_;
  // Per group: {initial_lr, max_lr, min_lr} and {max_momentum, base_momentum}.
  std::vector<std::array<double, 3>> lr_points_;
  std::vector<std::array<double, 2>> momentum_points_;
};

}  // namespace v1
}  // namespace simdoptim
