#include "simdoptim/lr_scheduler/cosine_annealing_lr.hpp"

#include <cmath>
#include <numbers>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

constexpr double kPi = std::numbers::pi;

double as_double(std::int64_t v) {
  return static_cast<double>(v);
}

// eta_min + (base_lr - eta_min) * (1 + cos(pi * t / period)) / 2, in torch's operation order.
double cosine_between(double base_lr, double eta_min, double t, double period) {
  return eta_min + (base_lr - eta_min) * (1 + std::cos(kPi * t / period)) / 2;
}

}  // namespace

double cosine_annealing_lr_at(double base_lr, std::int64_t epoch, std::int64_t T_max,
                              double eta_min) {
  return cosine_between(base_lr, eta_min, as_double(epoch), as_double(T_max));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min,
                                     std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch), T_max_(T_max), eta_min_(eta_min) {
  if (T_max < 1) detail::invalid(name(), "T_max", "must be >= 1", T_max);
  if (!std::isfinite(eta_min)) detail::invalid(name(), "eta_min", "must be finite", eta_min);
  initial_step();
}

std::vector<double> CosineAnnealingLR::lr_at(std::int64_t epoch) const {
  return detail::map_base(
      base_lrs_, [&](double b) { return cosine_annealing_lr_at(b, epoch, T_max_, eta_min_); });
}

std::vector<double> CosineAnnealingLR::get_lr() {
  std::vector<double> lrs = group_lrs();
  if (last_epoch_ == 0) return lrs;
  // The closed form on the first step after resuming, as torch.
  if (step_count_ == 1 && last_epoch_ > 0) {
    lrs.resize(std::min(lrs.size(), base_lrs_.size()));
    for (std::size_t i = 0; i < lrs.size(); ++i) {
      lrs[i] = cosine_between(base_lrs_[i], eta_min_, as_double(last_epoch_), as_double(T_max_));
    }
    return lrs;
  }
  const double t_max = as_double(T_max_);
  if (detail::floor_mod(last_epoch_ - 1 - T_max_, 2 * T_max_) == 0) {
    lrs.resize(std::min(lrs.size(), base_lrs_.size()));
    for (std::size_t i = 0; i < lrs.size(); ++i) {
      lrs[i] = lrs[i] + (base_lrs_[i] - eta_min_) * (1 - std::cos(kPi / t_max)) / 2;
    }
    return lrs;
  }
  const double ratio = (1 + std::cos(kPi * as_double(last_epoch_) / t_max)) /
                       (1 + std::cos(kPi * as_double(last_epoch_ - 1) / t_max));
  for (double& lr : lrs) lr = ratio * (lr - eta_min_) + eta_min_;
  return lrs;
}

WarmRestartPosition warm_restart_position(double epoch, std::int64_t T_0, std::int64_t T_mult) {
  if (epoch < as_double(T_0)) return {epoch, T_0};
  if (T_mult == 1) return {std::fmod(epoch, as_double(T_0)), T_0};
  const double base = as_double(T_mult);
  const auto n =
      static_cast<std::int64_t>(std::log(epoch / as_double(T_0) * (base - 1) + 1) / std::log(base));
  std::int64_t power = 1;
  for (std::int64_t k = 0; k < n; ++k) power *= T_mult;
  return {epoch - as_double(T_0 * (power - 1)) / as_double(T_mult - 1), T_0 * power};
}

double cosine_warm_restarts_lr_at(double base_lr, double epoch, std::int64_t T_0,
                                  std::int64_t T_mult, double eta_min) {
  const WarmRestartPosition p = warm_restart_position(epoch, T_0, T_mult);
  return cosine_between(base_lr, eta_min, p.T_cur, as_double(p.T_i));
}

CosineAnnealingWarmRestarts::CosineAnnealingWarmRestarts(Optimizer& optimizer, std::int64_t T_0,
                                                         std::int64_t T_mult, double eta_min,
                                                         std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch),
      T_0_(T_0),
      T_i_(T_0),
      T_mult_(T_mult),
      eta_min_(eta_min),
      T_cur_(as_double(last_epoch)) {
  if (T_0 < 1) detail::invalid(name(), "T_0", "must be a positive integer", T_0);
  if (T_mult < 1) detail::invalid(name(), "T_mult", "must be an integer >= 1", T_mult);
  if (!std::isfinite(eta_min)) detail::invalid(name(), "eta_min", "must be finite", eta_min);
  initial_step();
}

void CosineAnnealingWarmRestarts::step() {
  if (last_epoch_ < 0) {
    step_to(0.0);
    return;
  }
  ++last_epoch_;
  T_cur_ = T_cur_ + 1;
  if (T_cur_ >= as_double(T_i_)) {
    T_cur_ = T_cur_ - as_double(T_i_);
    T_i_ = T_i_ * T_mult_;
  }
  write();
}

void CosineAnnealingWarmRestarts::step_to(double epoch) {
  if (!(epoch >= 0.0) || !std::isfinite(epoch)) {
    detail::invalid(name(), "epoch", "must be a non-negative number", epoch);
  }
  // torch leaves T_i alone for T_mult == 1 and epoch >= T_0 (it is T_0 then anyway).
  const WarmRestartPosition p = warm_restart_position(epoch, T_0_, T_mult_);
  T_cur_ = p.T_cur;
  T_i_ = p.T_i;
  last_epoch_ = static_cast<std::int64_t>(std::floor(epoch));
  write();
}

std::vector<double> CosineAnnealingWarmRestarts::lr_at(double epoch) const {
  return detail::map_base(base_lrs_, [&](double b) {
    return cosine_warm_restarts_lr_at(b, epoch, T_0_, T_mult_, eta_min_);
  });
}

std::vector<double> CosineAnnealingWarmRestarts::get_lr() {
  return detail::map_base(
      base_lrs_, [&](double b) { return cosine_between(b, eta_min_, T_cur_, as_double(T_i_)); });
}

// torch's CosineAnnealingWarmRestarts.step never counts steps (its _step_count stays 0).
void CosineAnnealingWarmRestarts::write() {
  apply(get_lr());
}

SchedulerState CosineAnnealingWarmRestarts::state_dict() const {
  SchedulerState s = LRScheduler::state_dict();
  s.set("T_i", as_double(T_i_));
  s.set("T_cur", T_cur_);
  return s;
}

void CosineAnnealingWarmRestarts::load_state_dict(const SchedulerState& state) {
  LRScheduler::load_state_dict(state);
  T_i_ = detail::to_int(state.scalar("T_i"));
  T_cur_ = state.scalar("T_cur");
}

}  // namespace v1
}  // namespace simdoptim
