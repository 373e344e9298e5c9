#pragma once
/// StepLR, MultiStepLR and ExponentialLR: multiplicative decay by gamma at chosen epochs.
#include <cstdint>
#include <optional>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// StepLR's closed form: base_lr * gamma^(epoch // step_size) (torch: _get_closed_form_lr).
double step_lr_at(double base_lr, std::int64_t epoch, std::int64_t step_size, double gamma);
/// MultiStepLR's closed form: base_lr * gamma^bisect_right(milestones, epoch).
double multistep_lr_at(double base_lr, std::int64_t epoch,
                       const std::vector<std::int64_t>& milestones, double gamma);
/// ExponentialLR's closed form: base_lr * gamma^epoch.
double exponential_lr_at(double base_lr, std::int64_t epoch, double gamma);

/// torch.optim.lr_scheduler.StepLR: lr *= gamma when epoch > 0 and epoch % step_size == 0
/// (chainable). Throws std::invalid_argument when step_size < 1.
class StepLR final : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1,
         std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "StepLR"; }
  /// step_lr_at(base_lr_i, epoch, step_size, gamma) for every group.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override { return lr_at(last_epoch_); }
  std::int64_t step_size_;
  double gamma_;
};

/// torch.optim.lr_scheduler.MultiStepLR: lr *= gamma when epoch is a milestone (chainable).
/// Milestones must be non-negative and strictly increasing (torch documents "must be
/// increasing" but does not check; a repeated milestone there means gamma^count).
class MultiStepLR final : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma = 0.1,
              std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "MultiStepLR"; }
  /// multistep_lr_at(base_lr_i, epoch, milestones, gamma) for every group.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override { return lr_at(last_epoch_); }
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

/// torch.optim.lr_scheduler.ExponentialLR: lr *= gamma every epoch after the first
/// (chainable).
class ExponentialLR final : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma, std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "ExponentialLR"; }
  /// exponential_lr_at(base_lr_i, epoch, gamma) for every group.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override;
  std::optional<std::vector<double>> closed_form_lr() const override { return lr_at(last_epoch_); }
  double gamma_;
};

}  // namespace v1
}  // namespace simdoptim
