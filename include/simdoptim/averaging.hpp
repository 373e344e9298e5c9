#pragma once
/// Weight averaging kept beside the parameters: an exponential moving average (timm's
/// ModelEmaV2), a running mean (torch.optim.swa_utils.AveragedModel) or Lookahead's slow weights
/// (timm's Lookahead), updated in the step's own pass over the arenas.
#include <cstdint>
#include <functional>

#include "simdoptim/types.hpp"

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
  /// EMA with timm's ModelEmaV3 decay (its get_decay(step), the step counted from
  /// set_averaging): with s = step - update_after_step - 1, the update uses decay 0 while
  /// s <= 0 (the average becomes the parameters), then `decay`, or with `warmup`
  /// max(min_decay, min(decay, 1 - (1 + s / gamma)^-power)). Updates run in ModelEmaV2's
  /// arithmetic (decay * avg + (1 - decay) * p), where ModelEmaV3 lerps: the two differ by
  /// rounding only. `warmup` selects this form instead of ModelEmaV2's.
  struct ModelEmaV3 {
    bool enabled = false;
    std::int64_t update_after_step = 0;
    double gamma = 1.0;
    double power = 2.0 / 3.0;
    double min_decay = 0.0;
  };
  ModelEmaV3 v3;
  /// EMA: when set, the decay of the update made at step `step` (overrides decay, warmup and
  /// v3); it must return a value in [0, 1].
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
  /// How the average is stored: f32, bf16 or f16 (rounded to nearest-even after each update,
  /// which runs in fp32). The average reads the parameters as stored: fp32, their master
  /// weights, or 16-bit parameters widened. Only an fp32 average of fp32 values (parameters
  /// or master weights) is updated inside the step's pass; the others take a second pass.
  DType dtype = DType::f32;
};

}  // namespace v1
}  // namespace simdoptim
