#pragma once
/// ConstantLR, LinearLR and PolynomialLR: a factor on the base lr that changes over total_iters.
#include <cstdint>
#include <optional>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// ConstantLR's closed form: base_lr * (factor + (epoch >= total_iters) * (1 - factor)).
double constant_lr_at(double base_lr, std::int64_t epoch, double factor, std::int64_t total_iters);
/// LinearLR's closed form:
/// base_lr * (start + (end - start) * min(total_iters, epoch) / total_iters).
double linear_lr_at(double base_lr, std::int64_t epoch, double start_factor, double end_factor,
                    std::int64_t total_iters);
/// PolynomialLR's closed form: base_lr * (1 - min(total_iters, epoch) / total_iters)^power.
double polynomial_lr_at(double base_lr, std::int64_t epoch, std::int64_t total_iters, double power);

/// torch.optim.lr_scheduler.ConstantLR: lr * factor until epoch total_iters, then lr (chainable:
/// multiplies by factor at epoch 0 and by 1/factor at epoch total_iters). factor in [0, 1],
/// total_iters >= 0.
class ConstantLR final : public LRScheduler {
 public:
  ConstantLR(Optimizer& optimizer, double factor = 1.0 / 3, std::int64_t total_iters = 5,
             std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "ConstantLR"; }
  /// constant_lr_at(base_lr_i, epoch, factor, total_iters) for every group.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override { return lr_at(last_epoch_); }
  double factor_;
  std::int64_t total_iters_;
};

/// torch.optim.lr_scheduler.LinearLR: the factor moves linearly from start_factor to end_factor
/// over total_iters epochs. Chainable form (epoch 1..total_iters):
///   lr *= 1 + (end - start) / (total_iters * start + (epoch - 1) * (end - start)).
/// start_factor in (0, 1] (torch accepts 0 and then divides by zero), end_factor in [0, 1],
/// total_iters >= 1.
class LinearLR final : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           std::int64_t total_iters = 5, std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "LinearLR"; }
  /// linear_lr_at(base_lr_i, epoch, start_factor, end_factor, total_iters) for every group.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override { return lr_at(last_epoch_); }
  double start_factor_;
  double end_factor_;
  std::int64_t total_iters_;
};

/// torch.optim.lr_scheduler.PolynomialLR: lr decays as (1 - epoch / total_iters)^power until
/// total_iters. Chainable form: lr *= ((1 - e / T) / (1 - (e - 1) / T))^power. total_iters >= 1.
class PolynomialLR final : public LRScheduler {
 public:
  PolynomialLR(Optimizer& optimizer, std::int64_t total_iters = 5, double power = 1.0,
               std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "PolynomialLR"; }
  /// polynomial_lr_at(base_lr_i, epoch, total_iters, power) for every group.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override { return lr_at(last_epoch_); }
  std::int64_t total_iters_;
  double power_;
};

}  // namespace v1
}  // namespace simdoptim
