#pragma once
/// CosineAnnealingLR and CosineAnnealingWarmRestarts (SGDR).
#include <cstdint>
#include <optional>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// CosineAnnealingLR's closed form: eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max))
/// / 2.
double cosine_annealing_lr_at(double base_lr, std::int64_t epoch, std::int64_t T_max,
                              double eta_min);

/// torch.optim.lr_scheduler.CosineAnnealingLR. step() uses torch's recursive (chainable) form:
///   epoch 0: lr;  (epoch - 1 - T_max) % (2 T_max) == 0: lr + (base - eta_min)(1 -
///   cos(pi/T_max))/2; else: (1 + cos(pi e / T_max)) / (1 + cos(pi (e - 1) / T_max)) * (lr -
///   eta_min) + eta_min,
/// and the closed form (cosine_annealing_lr_at) on step(epoch) and on the first step after
/// resuming (last_epoch > 0). Throws std::invalid_argument when T_max < 1.
class CosineAnnealingLR final : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0,
                    std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "CosineAnnealingLR"; }
  /// cosine_annealing_lr_at(base_lr_i, epoch, T_max, eta_min) for every group.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override { return lr_at(last_epoch_); }
  std::int64_t T_max_;
  double eta_min_;
};

/// Where a (fractional) epoch falls in SGDR's cycles: T_cur since the last restart, T_i the
/// current cycle length (torch: CosineAnnealingWarmRestarts.step(epoch)).
struct WarmRestartPosition {
  double T_cur = 0.0;
  std::int64_t T_i = 0;
};
/// torch's computation of T_cur and T_i from an explicit epoch >= 0:
///   epoch < T_0: (epoch, T_0); T_mult == 1: (epoch % T_0, T_0);
///   else n = int(log(epoch / T_0 * (T_mult - 1) + 1, T_mult)),
///        (epoch - T_0 (T_mult^n - 1) / (T_mult - 1), T_0 T_mult^n).
WarmRestartPosition warm_restart_position(double epoch, std::int64_t T_0, std::int64_t T_mult);
/// CosineAnnealingWarmRestarts' closed form at a fractional epoch:
/// eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2.
double cosine_warm_restarts_lr_at(double base_lr, double epoch, std::int64_t T_0,
                                  std::int64_t T_mult, double eta_min);

/// torch.optim.lr_scheduler.CosineAnnealingWarmRestarts: cosine annealing restarted every T_i
/// epochs, T_0 first and T_i *= T_mult after each restart. step() advances T_cur by one;
/// step_to(epoch) jumps to a fractional epoch (torch: step(epoch) with a float, e.g.
/// epoch + batch / iters). Throws std::invalid_argument when T_0 < 1, T_mult < 1 or (in
/// step_to) epoch < 0.
class CosineAnnealingWarmRestarts final : public LRScheduler {
 public:
  CosineAnnealingWarmRestarts(Optimizer& optimizer, std::int64_t T_0, std::int64_t T_mult = 1,
                              double eta_min = 0.0, std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "CosineAnnealingWarmRestarts"; }
  void step() override;
  /// step_to(epoch).
  void step(std::int64_t epoch) override { step_to(static_cast<double>(epoch)); }
  /// torch's step(epoch) with a possibly fractional epoch; last_epoch becomes floor(epoch).
  void step_to(double epoch);
  /// cosine_warm_restarts_lr_at(base_lr_i, epoch, T_0, T_mult, eta_min) for every group.
  std::vector<double> lr_at(double epoch) const;
  /// Epochs since the last restart (torch: T_cur).
  double T_cur() const noexcept { return T_cur_; }
  /// Length of the current cycle (torch: T_i).
  std::int64_t T_i() const noexcept { return T_i_; }

  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 private:
  std::vector<double> get_lr() override;
  void write();
  std::int64_t T_0_;
  std::int64_t T_i_;
  std::int64_t T_mult_;
  double eta_min_;
  double T_cur_;
};

}  // namespace v1
}  // namespace simdoptim
