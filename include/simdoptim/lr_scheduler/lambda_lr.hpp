#pragma once
/// LambdaLR and MultiplicativeLR: schedules given by user functions of the epoch.
#include <cstdint>
#include <functional>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// A function of the epoch index (torch: the `lr_lambda` callable).
using EpochFunction = std::function<double(std::int64_t epoch)>;

/// torch.optim.lr_scheduler.LambdaLR: lr_i(epoch) = base_lr_i * lr_lambda_i(epoch).
/// Closed form in itself: lr_at(epoch) gives it without stepping.
class LambdaLR final : public LRScheduler {
 public:
  /// One function for every group.
  LambdaLR(Optimizer& optimizer, EpochFunction lr_lambda, std::int64_t last_epoch = -1);
  /// One function per group; throws std::invalid_argument when the count differs from the
  /// number of groups or a function is empty.
  LambdaLR(Optimizer& optimizer, std::vector<EpochFunction> lr_lambdas,
           std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "LambdaLR"; }
  /// base_lr_i * lr_lambda_i(epoch) for every group, without stepping.
  std::vector<double> lr_at(std::int64_t epoch) const;

 private:
  std::vector<double> get_lr() override { return lr_at(last_epoch_); }
  std::vector<EpochFunction> lr_lambdas_;
};

/// torch.optim.lr_scheduler.MultiplicativeLR: lr_i(epoch) = lr_i(epoch - 1) * lr_lambda_i(epoch)
/// for epoch > 0 (the group's current lr, so it composes with other schedulers).
class MultiplicativeLR final : public LRScheduler {
 public:
  /// One function for every group.
  MultiplicativeLR(Optimizer& optimizer, EpochFunction lr_lambda, std::int64_t last_epoch = -1);
  /// One function per group (same checks as LambdaLR).
  MultiplicativeLR(Optimizer& optimizer, std::vector<EpochFunction> lr_lambdas,
                   std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "MultiplicativeLR"; }

 private:
  std::vector<double> get_lr() override;
  std::vector<EpochFunction> lr_lambdas_;
};

}  // namespace v1
}  // namespace simdoptim
