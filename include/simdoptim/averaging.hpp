#pragma once
/// Weight averaging kept beside the parameters: an exponential moving average (timm's
/// ModelEmaV2), a running mean (torch.optim.swa_utils.AveragedModel) or Lookahead's slow weights
/// (timm's Lookahead), updated in the step's own pass over the arenas.
#include <cstdint>
#include <functional>

namespace simdoptim {
inline namespace v1 {

/// How Optimizer::set_averaging keeps an average of the parameters. Steps are counted from
/// set_averaging: the first step() after it is step 1; a step skipped for a non-finite gradient
/// does not count.
struct AveragingOptions {
  enum class Mode {
    /// No average.
    none,
    /// avg = decay * avg + (1 - decay) * p after each averaging step; avg starts as the
    /// parameters at set_averaging (timm: ModelEmaV2(model, decay), update() after step()).
    ema,
    /// avg = avg + (p - avg) / (n_averaged + 1), the first update copying p (torch 1.13:
    /// AveragedModel(model).update_parameters(model) and its n_averaged).
    swa,
    /// Every k steps: slow = slow + alpha * (p - slow), then p = slow, for the tensors that have
    /// a gradient; slow starts as the parameters at set_averaging (Zhang et al. 2019). timm's
    /// Lookahead(base, alpha, k) instead copies p into slow at its first sync, which makes that
    /// sync a no-op.
    lookahead,
  };
  Mode mode = Mode::none;
  /// EMA decay in [0, 1] (timm: model_ema_decay).
  double decay = 0.9998;
  /// EMA: the update after t earlier updates uses min(decay, (1 + t) / (10 + t)) (TensorFlow's
  /// ExponentialMovingAverage num_updates form; timm: model_ema_warmup).
  bool warmup = false;
  /// EMA: when set, the decay of the update made at step `step` (overrides decay and warmup);
  /// it must return a value in [0, 1].
  std::function<double(std::int64_t step)> decay_schedule;
  /// EMA and SWA: the first step that updates the average (torch: the swa_start loop).
  std::int64_t start = 1;
  /// EMA and SWA: update at steps start, start + every, start + 2 * every, ...
  std::int64_t every = 1;
  /// Lookahead: the pull towards the fast weights, in [0, 1] (timm: lookahead_alpha).
  double alpha = 0.5;
  /// Lookahead: sync every k steps (timm: lookahead_k).
  std::int64_t k = 6;
  /// Update the average inside the step's kernels (one pass). false: a second pass after the
  /// step, as a separate AveragedModel/ModelEma update makes; the same bits. LAMB, LARS and
  /// Adafactor always use the second pass; LBFGS refuses averaging.
  bool fused = true;
};

}  // namespace v1
}  // namespace simdoptim
