#include "simdoptim/lr_scheduler/factor_lr.hpp"

#include <algorithm>
#include <cmath>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

double as_double(std::int64_t v) {
  return static_cast<double>(v);
}

}  // namespace

double constant_lr_at(double base_lr, std::int64_t epoch, double factor, std::int64_t total_iters) {
  const double reached = epoch >= total_iters ? 1.0 : 0.0;
  return base_lr * (factor + reached * (1 - factor));
}

double linear_lr_at(double base_lr, std::int64_t epoch, double start_factor, double end_factor,
                    std::int64_t total_iters) {
  return base_lr *
         (start_factor + (end_factor - start_factor) * as_double(std::min(total_iters, epoch)) /
                             as_double(total_iters));
}

double polynomial_lr_at(double base_lr, std::int64_t epoch, std::int64_t total_iters,
                        double power) {
  return base_lr *
         std::pow(1.0 - as_double(std::min(total_iters, epoch)) / as_double(total_iters), power);
}

ConstantLR::ConstantLR(Optimizer& optimizer, double factor, std::int64_t total_iters,
                       std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch), factor_(factor), total_iters_(total_iters) {
  if (!(factor >= 0.0 && factor <= 1.0)) {
    detail::invalid(name(), "factor", "must be between 0 and 1", factor);
  }
  if (total_iters < 0) detail::invalid(name(), "total_iters", "must be >= 0", total_iters);
  initial_step();
}

std::vector<double> ConstantLR::lr_at(std::int64_t epoch) const {
  return detail::map_base(
      base_lrs_, [&](double b) { return constant_lr_at(b, epoch, factor_, total_iters_); });
}

std::vector<double> ConstantLR::get_lr() {
  if (last_epoch_ == 0) return detail::scaled(group_lrs(), factor_);
  if (last_epoch_ != total_iters_) return group_lrs();
  return detail::scaled(group_lrs(), 1.0 / factor_);
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor,
                   std::int64_t total_iters, std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  if (!(start_factor > 0.0 && start_factor <= 1.0)) {
    detail::invalid(name(), "start_factor", "must be in (0, 1]", start_factor);
  }
  if (!(end_factor >= 0.0 && end_factor <= 1.0)) {
    detail::invalid(name(), "end_factor", "must be between 0 and 1", end_factor);
  }
  if (total_iters < 1) detail::invalid(name(), "total_iters", "must be >= 1", total_iters);
  initial_step();
}

std::vector<double> LinearLR::lr_at(std::int64_t epoch) const {
  return detail::map_base(base_lrs_, [&](double b) {
    return linear_lr_at(b, epoch, start_factor_, end_factor_, total_iters_);
  });
}

std::vector<double> LinearLR::get_lr() {
  if (last_epoch_ == 0) return detail::scaled(group_lrs(), start_factor_);
  if (last_epoch_ > total_iters_) return group_lrs();
  const double delta = end_factor_ - start_factor_;
  return detail::scaled(group_lrs(), 1. + delta / (as_double(total_iters_) * start_factor_ +
                                                   as_double(last_epoch_ - 1) * delta));
}

PolynomialLR::PolynomialLR(Optimizer& optimizer, std::int64_t total_iters, double power,
                           std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch), total_iters_(total_iters), power_(power) {
  if (total_iters < 1) detail::invalid(name(), "total_iters", "must be >= 1", total_iters);
  if (!std::isfinite(power)) detail::invalid(name(), "power", "must be finite", power);
  initial_step();
}

std::vector<double> PolynomialLR::lr_at(std::int64_t epoch) const {
  return detail::map_base(
      base_lrs_, [&](double b) { return polynomial_lr_at(b, epoch, total_iters_, power_); });
}

std::vector<double> PolynomialLR::get_lr() {
  if (last_epoch_ == 0 || last_epoch_ > total_iters_) return group_lrs();
  const double t = as_double(total_iters_);
  const double decay =
      std::pow((1.0 - as_double(last_epoch_) / t) / (1.0 - as_double(last_epoch_ - 1) / t), power_);
  return detail::scaled(group_lrs(), decay);
}

}  // namespace v1
}  // namespace simdoptim
