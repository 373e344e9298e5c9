#include "simdoptim/lr_scheduler/step_lr.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

double step_lr_at(double base_lr, std::int64_t epoch, std::int64_t step_size, double gamma) {
  return base_lr * std::pow(gamma, static_cast<double>(detail::floor_div(epoch, step_size)));
}

double multistep_lr_at(double base_lr, std::int64_t epoch,
                       const std::vector<std::int64_t>& milestones, double gamma) {
  const auto passed = std::upper_bound(milestones.begin(), milestones.end(), epoch);
  return base_lr * std::pow(gamma, static_cast<double>(passed - milestones.begin()));
}

double exponential_lr_at(double base_lr, std::int64_t epoch, double gamma) {
  return base_lr * std::pow(gamma, static_cast<double>(epoch));
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma, std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch), step_size_(step_size), gamma_(gamma) {
  if (step_size < 1) detail::invalid(name(), "step_size", "must be a positive integer", step_size);
  initial_step();
}

std::vector<double> StepLR::lr_at(std::int64_t epoch) const {
  return detail::map_base(base_lrs_,
                          [&](double b) { return step_lr_at(b, epoch, step_size_, gamma_); });
}

std::vector<double> StepLR::get_lr() {
  if (last_epoch_ == 0 || last_epoch_ % step_size_ != 0) return group_lrs();
  return detail::scaled(group_lrs(), gamma_);
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma,
                         std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch), milestones_(std::move(milestones)), gamma_(gamma) {
  for (std::size_t i = 0; i < milestones_.size(); ++i) {
    if (milestones_[i] < 0) {
      detail::invalid(name(), detail::message("milestones[", i, "]"), "must be >= 0",
                      milestones_[i]);
    }
    if (i > 0 && milestones_[i] <= milestones_[i - 1]) {
      detail::invalid(name(), detail::message("milestones[", i, "]"),
                      detail::message("must be greater than milestones[", i - 1,
                                      "] = ", milestones_[i - 1], " (increasing)"),
                      milestones_[i]);
    }
  }
  initial_step();
}

std::vector<double> MultiStepLR::lr_at(std::int64_t epoch) const {
  return detail::map_base(base_lrs_,
                          [&](double b) { return multistep_lr_at(b, epoch, milestones_, gamma_); });
}

std::vector<double> MultiStepLR::get_lr() {
  if (!std::binary_search(milestones_.begin(), milestones_.end(), last_epoch_)) {
    return group_lrs();
  }
  // torch: gamma ** count with count == 1 (milestones are distinct here).
  return detail::scaled(group_lrs(), std::pow(gamma_, 1.0));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma, std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch), gamma_(gamma) {
  if (!std::isfinite(gamma)) detail::invalid(name(), "gamma", "must be finite", gamma);
  initial_step();
}

std::vector<double> ExponentialLR::lr_at(std::int64_t epoch) const {
  return detail::map_base(base_lrs_, [&](double b) { return exponential_lr_at(b, epoch, gamma_); });
}

std::vector<double> ExponentialLR::get_lr() {
  if (last_epoch_ == 0) return group_lrs();
  return detail::scaled(group_lrs(), gamma_);
}

}  // namespace v1
}  // namespace simdoptim
