#pragma once
/// WarmupLR: linear warmup in front of any scheduler (not in torch; the Swin/timm recipes).
#include <cstdint>
#include <memory>
#include <vector>

#include "simdoptim/lr_scheduler/scheduler.hpp"

namespace simdoptim {
inline namespace v1 {

/// Linear warmup, then `after`. With W = warmup_steps, start_i = warmup_lr_init * lr_scale_i and
/// target_i = the lr `after` wrote into group i at its construction (its epoch 0):
///   t < W:  lr_i = start_i + t * ((target_i - start_i) / W)   (timm's warmup formula)
///   t == W: lr_i = target_i (the wrapped schedule's epoch 0)
///   t > W:  after.step() (the wrapped schedule's epoch t - W).
/// t counts this wrapper's steps (0 at construction). W = 0 is a pass-through.
class WarmupLR final : public Scheduler {
 public:
  /// Takes ownership of `after`, already built on its optimizer. Throws std::invalid_argument
  /// when `after` is null, warmup_steps < 0 or warmup_lr_init is negative or not finite.
  WarmupLR(std::unique_ptr<Scheduler> after, std::int64_t warmup_steps,
           double warmup_lr_init = 0.0);
  std::string_view name() const noexcept override { return "WarmupLR"; }
  void step() override;
  /// Steps taken (0 at construction).
  std::int64_t last_epoch() const noexcept { return t_; }
  /// The warmup lr of every group at t < warmup_steps, without stepping.
  std::vector<double> warmup_lr_at(std::int64_t t) const;
  /// The wrapped scheduler.
  Scheduler& after() const noexcept { return *after_; }

  /// t, the warmup endpoints and _last_lr, with the wrapped scheduler's state as the child.
  SchedulerState state_dict() const override;
  void load_state_dict(const SchedulerState& state) override;

 private:
  void write(const std::vector<double>& lrs);

  std::unique_ptr<Scheduler> after_;
  std::int64_t warmup_steps_;
  std::int64_t t_ = 0;
  std::vector<double> starts_;
  std::vector<double> targets_;
};

}  // namespace v1
}  // namespace simdoptim
