#pragma once
/// CosineLRScheduler: timm's cosine schedule with warmup, restarts and decay (not in torch).
#include <cstdint>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// timm.scheduler.CosineLRScheduler arguments with timm's defaults (noise is not supported).
struct CosineLROptions {
  /// Length of the first cycle (> 0).
  std::int64_t t_initial = 1;
  /// Floor of the cosine (>= 0).
  double lr_min = 0.0;
  /// Each cycle is cycle_mul times longer than the previous one (> 0).
  double cycle_mul = 1.0;
  /// Each cycle's peak is cycle_decay times the previous one.
  double cycle_decay = 1.0;
  /// Cycles before the lr stays at lr_min (>= 1).
  std::int64_t cycle_limit = 1;
  /// Warmup length (>= 0).
  std::int64_t warmup_t = 0;
  /// Warmup start lr (>= 0).
  double warmup_lr_init = 0.0;
  /// When true the cosine starts after the warmup (t - warmup_t); else it runs under it.
  bool warmup_prefix = false;
  /// t counts epochs (step(epoch) updates) or, when false, optimizer updates (step_update).
  bool t_in_epochs = true;
  /// Exponent k in cos(pi * t_curr^k / t_i^k) (> 0).
  double k_decay = 1.0;
};

/// timm's cosine lr at t for a group whose base lr is `base_lr` (timm: _get_lr):
///   t < warmup_t: warmup_lr_init + t * (base_lr - warmup_lr_init) / warmup_t
///   else (t -= warmup_t when warmup_prefix):
///     cycle_mul != 1: i = floor(log(1 - t / t_initial * (1 - cycle_mul), cycle_mul)),
///                     t_i = cycle_mul^i * t_initial,
///                     t_curr = t - (1 - cycle_mul^i) / (1 - cycle_mul) * t_initial
///     cycle_mul == 1: i = t // t_initial, t_i = t_initial, t_curr = t - t_initial * i
///     i < cycle_limit: lr_min + 0.5 * (base_lr * cycle_decay^i - lr_min)
///                               * (1 + cos(pi * t_curr^k / t_i^k))
///     else lr_min.
double timm_cosine_lr_at(double base_lr, std::int64_t t, const CosineLROptions& options);

/// timm.scheduler.CosineLRScheduler. Construction records initial_lr and writes the base lrs,
/// or warmup_lr_init when warmup_t > 0 (times lr_scale, as timm). step(epoch) and
/// step_update(num_updates) set t as timm does (each acts only in its unit, per t_in_epochs);
/// step() advances t by one whatever the unit (per-iteration stepping).
class CosineLRScheduler final : public Scheduler {
 public:
  /// Throws std::invalid_argument on a parameter outside the ranges in CosineLROptions.
  CosineLRScheduler(Optimizer& optimizer, CosineLROptions options);
  std::string_view name() const noexcept override { return "CosineLRScheduler"; }
  /// t += 1 and writes lr_at(t).
  void step() override;
  /// timm's step(epoch): writes lr_at(epoch) when t_in_epochs.
  void step(std::int64_t epoch);
  /// timm's step_update(num_updates): writes lr_at(num_updates) unless t_in_epochs.
  void step_update(std::int64_t num_updates);
  /// timm_cosine_lr_at(base_value_i, t, options) for every group.
  std::vector<double> lr_at(std::int64_t t) const;
  /// The last t written (0 at construction).
  std::int64_t t() const noexcept { return t_; }
  /// Per-group base lrs (timm: base_values, the groups' initial_lr).
  const std::vector<double>& base_values() const noexcept { return base_values_; }
  /// Total length of `cycles` cycles (timm: get_cycle_length; 0 means cycle_limit).
  std::int64_t get_cycle_length(std::int64_t cycles = 0) const;

  /// t, base_values and _last_lr.
  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 private:
  void write(const std::vector<double>& values);

  CosineLROptions options_;
  std::vector<double> base_values_;
  std::int64_t t_ = 0;
};

}  // namespace v1
}  // namespace simdoptim
