#pragma once
/// build_optimizer: a config and a model's named parameters in, a ready optimizer out, with the
/// parameter groups of the Swin Transformer recipe (its Python build_optimizer).
#include <memory>
#include <string>
#include <vector>

#include "simdoptim/config.hpp"
#include "simdoptim/group_options.hpp"
#include "simdoptim/model_spec.hpp"
#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// The optimizer names build_optimizer accepts (lower case, sorted): "adam", "adamw", "sgd".
std::vector<std::string> optimizer_names();

/// The recipe's `set_weight_decay` rule: true when `param` gets no weight decay because it is
/// 1-D, its name ends with ".bias", its name is in model.no_weight_decay() or contains one of
/// model.no_weight_decay_keywords().
bool skips_weight_decay(const ParamInfo& param, const ModelSpec& model);

/// One param group that build_optimizer creates: its parameters' names in model order and the
/// options it passes to add_param_group.
struct ParamGroupPlan {
  std::vector<std::string> params;
  /// Always `lr` and `weight_decay`; with layer decay also `lr_scale` and `initial_lr`.
  GroupOptions options;
};

/// The param groups of the recipe, without allocating anything.
///
/// Frozen parameters are left out. Each trainable parameter falls in a bucket: (its layer when
/// TRAIN.LAYER_DECAY < 1) x (the first TRAIN.PARAM_OVERRIDES entry that matches its name).
/// Buckets appear in the order their first parameter does; each yields a decay group
/// (weight_decay = TRAIN.WEIGHT_DECAY) then a no-decay group (weight_decay = 0, see
/// skips_weight_decay), and empty groups are not created. With neither option this is exactly
/// the recipe's `[{'params': has_decay}, {'params': no_decay, 'weight_decay': 0.}]`.
///
/// An override's WEIGHT_DECAY applies to all its parameters (one group per bucket); its LR
/// replaces TRAIN.BASE_LR. Layer decay follows timm's param_groups_layer_decay: with
/// L = max layer id, layer k gets lr_scale = LAYER_DECAY^(L - k); parameters without a layer id
/// are in layer L. The group's `lr` is the scaled lr (so training without a scheduler uses it)
/// and `initial_lr` the unscaled one (so a scheduler scales its own lr by `lr_scale`).
///
/// Throws std::invalid_argument on an empty model (no trainable parameter), an override
/// pattern that matches no trainable parameter, or layer decay on a model without layer ids.
std::vector<ParamGroupPlan> plan_param_groups(const Config& config, const ModelSpec& model);

/// Builds the optimizer TRAIN.OPTIMIZER.NAME (case-insensitive) with the groups of
/// plan_param_groups, as the recipe does:
///   sgd:   torch.optim.SGD(lr=BASE_LR, momentum=MOMENTUM, nesterov=True,
///                          weight_decay=WEIGHT_DECAY)
///   adam:  torch.optim.Adam(lr=BASE_LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)
///   adamw: torch.optim.AdamW(lr=BASE_LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY)
/// Parameters start at zero; write initial values through `optimizer->param(name)`.
/// Throws std::invalid_argument on an invalid config (validate_config), an unknown optimizer
/// name (the message lists optimizer_names()) or the errors of plan_param_groups.
std::unique_ptr<Optimizer> build_optimizer(const Config& config, const ModelSpec& model,
                                           RuntimeOptions runtime = {});

/// The weight averaging of a config, for Optimizer::set_averaging, with `steps_per_epoch`
/// optimizer steps per epoch: TRAIN.MODEL_EMA an EMA every step (decay MODEL_EMA_DECAY, warmup
/// MODEL_EMA_WARMUP, as timm's train.py), TRAIN.SWA_START > 0 a running mean at the end of every
/// epoch from epoch SWA_START on; Mode::none when neither. Throws std::invalid_argument when both
/// are on (one average per optimizer) or steps_per_epoch < 1.
AveragingOptions averaging_options(const Config& config, std::int64_t steps_per_epoch);

}  // namespace v1
}  // namespace simdoptim
