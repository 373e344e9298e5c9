#pragma once
/// SWALR (torch.optim.swa_utils): anneals each group's lr to a constant SWA lr.
#include <cstdint>
#include <string>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// torch.optim.swa_utils.SWALR. With step = _step_count - 1 (at least 1 when anneal_epochs is 0),
/// t = clamp(step / max(1, anneal_epochs), 0, 1), alpha = anneal(t) (cos: (1 - cos(pi t)) / 2;
/// linear: t) and prev_alpha the same at step - 1, each step writes
///   swa_lr * alpha + prev_lr * (1 - alpha),  prev_lr = (lr - prev_alpha swa_lr) / (1 - prev_alpha)
/// (swa_lr when prev_alpha is 1), so after anneal_epochs steps the lr is swa_lr. swa_lr is one
/// value for every group or one per group. torch also writes `swa_lr` into each group's dict;
/// here the scheduler keeps it. Throws std::invalid_argument for a list of the wrong length, an
/// anneal_strategy other than "cos" or "linear", or anneal_epochs < 0.
class SWALR final : public LRScheduler {
 public:
  SWALR(Optimizer& optimizer, std::vector<double> swa_lr, std::int64_t anneal_epochs = 10,
        std::string anneal_strategy = "cos", std::int64_t last_epoch = -1);
  std::string_view name() const noexcept override { return "SWALR"; }
  /// The SWA lr of every group.
  const std::vector<double>& swa_lrs() const noexcept { return swa_lrs_; }

 private:
  std::vector<double> get_lr() override;
  double anneal(double t) const;
  std::vector<double> swa_lrs_;
  std::int64_t anneal_epochs_;
  bool cosine_;
};

}  // namespace v1
}  // namespace simdoptim
