#include "simdoptim/lr_scheduler/swa_lr.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "lr_scheduler/scheduler_util.hpp"

namespace simdoptim {
inline namespace v1 {

namespace {

constexpr std::string_view kName = "SWALR";

// Python's max(0, min(1, x)).
double clamp01(double x) {
  return std::max(0.0, std::min(1.0, x));
}

}  // namespace

SWALR::SWALR(Optimizer& optimizer, std::vector<double> swa_lr, std::int64_t anneal_epochs,
             std::string anneal_strategy, std::int64_t last_epoch)
    : LRScheduler(optimizer, last_epoch),
      swa_lrs_(detail::per_group(kName, "swa_lr", swa_lr, optimizer.param_groups().size())),
      anneal_epochs_(anneal_epochs),
      cosine_(anneal_strategy == "cos") {
  for (const double v : swa_lrs_)
    if (!std::isfinite(v)) detail::invalid(kName, "swa_lr", "must be finite", v);
  if (anneal_strategy != "cos" && anneal_strategy != "linear")
    detail::invalid(kName, "anneal_strategy", "must be one of 'cos' or 'linear'",
                    "'" + anneal_strategy + "'");
  if (anneal_epochs < 0) detail::invalid(kName, "anneal_epochs", "must be >= 0", anneal_epochs);
  initial_step();
}

double SWALR::anneal(double t) const {
  return cosine_ ? (1 - std::cos(std::numbers::pi * t)) / 2 : t;
}

// torch's operation order, in double.
std::vector<double> SWALR::get_lr() {
  std::int64_t step = step_count_ - 1;
  if (anneal_epochs_ == 0) step = std::max<std::int64_t>(1, step);
  const auto span = static_cast<double>(std::max<std::int64_t>(1, anneal_epochs_));
  const double prev_alpha = anneal(clamp01(static_cast<double>(step - 1) / span));
  const double alpha = anneal(clamp01(static_cast<double>(step) / span));
  std::vector<double> lrs = group_lrs();
  lrs.resize(std::min(lrs.size(), swa_lrs_.size()));
  for (std::size_t i = 0; i < lrs.size(); ++i) {
    const double swa = swa_lrs_[i];
    const double prev = prev_alpha == 1 ? swa : (lrs[i] - prev_alpha * swa) / (1 - prev_alpha);
    lrs[i] = swa * alpha + prev * (1 - alpha);
  }
  return lrs;
}

}  // namespace v1
}  // namespace simdoptim
