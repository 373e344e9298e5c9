#pragma once
/// CyclicLR: the cyclical learning-rate policy (triangular, triangular2, exp_range, custom).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// CyclicLR arguments with torch's defaults. Per-group values hold one value for every group or
/// one per group (torch: "float or list").
struct CyclicLROptions {
  /// Lower lr boundary (required).
  std::vector<double> base_lr;
  /// Upper lr boundary (required).
  std::vector<double> max_lr;
  /// Iterations in the increasing half of a cycle (> 0).
  double step_size_up = 2000;
  /// Iterations in the decreasing half (>= 0); empty means step_size_up.
  std::optional<double> step_size_down = std::nullopt;
  /// "triangular", "triangular2" or "exp_range"; ignored when scale_fn is set.
  std::string mode = "triangular";
  /// exp_range's base: scale = gamma^iterations.
  double gamma = 1.0;
  /// Custom scale policy, 0 <= scale_fn(x) <= 1; replaces `mode` when set.
  std::function<double(double)> scale_fn = {};
  /// With scale_fn: evaluate it on the "cycle" number or on the "iterations".
  std::string scale_mode = "cycle";
  /// Cycle momentum (SGD's momentum, or Adam's beta1) inversely to the lr.
  bool cycle_momentum = true;
  /// Momentum at the lr peak.
  std::vector<double> base_momentum = {0.8};
  /// Momentum at the cycle start.
  std::vector<double> max_momentum = {0.9};
  /// Index of the last batch; -1 starts the schedule.
  std::int64_t last_epoch = -1;
};

/// torch.optim.lr_scheduler.CyclicLR (1.13). At batch index e:
///   cycle = floor(1 + e / total), x = 1 + e / total - cycle, total = up + down,
///   s = x <= up/total ? x / (up/total) : (x - 1) / (up/total - 1),
///   lr = base_lr + (max_lr - base_lr) * s * scale(cycle or e),
///   momentum = max_m - (max_m - base_m) * s * scale(cycle or e),
/// with scale 1 (triangular), 1 / 2^(cycle - 1) (triangular2) or gamma^e (exp_range).
/// Extension: torch 1.13 cycles only `momentum` (and rejects Adam); here an optimizer with
/// `beta1` gets beta1 cycled, as torch 2.x does.
class CyclicLR final : public LRScheduler {
 public:
  /// Throws std::invalid_argument on an unknown mode or scale_mode, a bad step size, a
  /// per-group list of the wrong length, or cycle_momentum without momentum/beta1.
  CyclicLR(Optimizer& optimizer, CyclicLROptions options);
  std::string_view name() const noexcept override { return "CyclicLR"; }
  /// The lr of every group at batch index `epoch`, without stepping.
  std::vector<double> lr_at(std::int64_t epoch) const;
  /// The momentum (or beta1) of every group at batch index `epoch`; empty without
  /// cycle_momentum.
  std::vector<double> momentum_at(std::int64_t epoch) const;
  /// The group key that is cycled: "momentum", "beta1", or empty.
  const std::string& momentum_key() const noexcept { return momentum_key_; }

 private:
  struct Position {
    double scale_factor;
    double scale;
  };
  Position position(std::int64_t epoch) const;
  std::vector<double> get_lr() override;

  CyclicLROptions options_;
  double total_size_;
  double step_ratio_;
  bool scale_by_cycle_;
  std::string momentum_key_;
  std::vector<double> max_lrs_;
  std::vector<double> base_momentums_;
  std::vector<double> max_momentums_;
};

}  // namespace v1
}  // namespace simdoptim
