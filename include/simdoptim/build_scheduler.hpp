#pragma once
/// build_scheduler: a config and an optimizer in, the recipe's per-iteration lr scheduler out
/// (the Swin Transformer recipe's lr_scheduler.py build_scheduler, timm-based). Every name, its
/// formula and its config keys: docs/lr_scheduler.md, "build_scheduler".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "simdoptim/config.hpp"
#include "simdoptim/lr_scheduler/scheduler.hpp"
#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// The scheduler names build_scheduler accepts (matched case-insensitively), in this order: the
/// recipe's "cosine", "linear", "step", "multistep", then the library's torch schedulers by
/// their torch names "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
/// "OneCycleLR".
std::vector<std::string> scheduler_names();

/// Builds TRAIN.LR_SCHEDULER.NAME on `optimizer`, counting in iterations as the recipe does:
///   N = EPOCHS * steps_per_epoch, W = WARMUP_EPOCHS * steps_per_epoch,
///   D = DECAY_EPOCHS * steps_per_epoch, milestones = MULTISTEPS * steps_per_epoch.
/// With t the number of optimizer steps taken and b a group's unscaled base lr (its
/// `initial_lr`, else its `lr`), the recipe names follow timm: for t < W,
///   lr = WARMUP_LR + t * ((b - WARMUP_LR) / W), then
///   cosine:    timm CosineLRScheduler(t_initial = WARMUP_PREFIX ? N - W : N, lr_min = MIN_LR,
///              warmup_t = W, warmup_lr_init = WARMUP_LR, cycle_limit = 1,
///              t_in_epochs = false, warmup_prefix = WARMUP_PREFIX);
///   linear:    b - (b - b * 0.01) * ((t - W) / (N - W))           (Swin's LinearLRScheduler)
///   step:      b * DECAY_RATE^(t // D)                              (timm StepLRScheduler)
///   multistep: b * GAMMA^bisect_right(milestones, t)                (Swin's MultiStepLRScheduler)
/// The torch names run torch's scheduler (its epochs counting iterations after the warmup)
/// behind a WarmupLR of W steps from WARMUP_LR (none when W = 0):
///   StepLR(step_size = D, gamma = DECAY_RATE), MultiStepLR(milestones, gamma = GAMMA),
///   ExponentialLR(gamma = GAMMA^(1 / steps_per_epoch), i.e. GAMMA per epoch),
///   CosineAnnealingLR(T_max = N - W, eta_min = MIN_LR),
///   OneCycleLR(max_lr = b, total_steps = N, pct_start = W / N, div_factor = BASE_LR /
///              WARMUP_LR, final_div_factor = WARMUP_LR / MIN_LR, cycle_momentum = false)
///              (its own warmup: no WarmupLR).
/// Groups with `lr_scale` get every value times their lr_scale, as timm's update_groups.
///
/// Construction writes the lr of t = 0 into the groups. Call step() once after every
/// optimizer.step() (t += 1), as timm's train loop calls step_update(num_updates); after the
/// last iteration t = N. (Swin's main.py passes the batch index instead, so it uses the lr of
/// t = 0 twice and every later one an iteration late.)
///
/// Throws std::invalid_argument, naming the key and value, on an invalid config
/// (validate_config), an unknown name (the message lists scheduler_names()), steps_per_epoch
/// < 1, a schedule with no iterations after its warmup (cosine with WARMUP_PREFIX, linear,
/// CosineAnnealingLR, OneCycleLR need EPOCHS > WARMUP_EPOCHS), empty or not strictly increasing
/// MULTISTEPS, a multistep milestone inside the warmup, or OneCycleLR without WARMUP_EPOCHS,
/// WARMUP_LR and MIN_LR > 0.
std::unique_ptr<Scheduler> build_scheduler(const Config& config, Optimizer& optimizer,
                                           std::int64_t steps_per_epoch);

}  // namespace v1
}  // namespace simdoptim
