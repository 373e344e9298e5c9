#pragma once
/// A typed training config in the style of the Swin Transformer recipe (yacs keys), read from
/// YAML. Every key, its default and its range: docs/config.md.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace simdoptim {
inline namespace v1 {

/// TRAIN.OPTIMIZER: which optimizer and its hyper-parameters (recipe defaults).
struct OptimizerConfig {
  /// NAME: case-insensitive optimizer name, one of optimizer_names() (build_optimizer.hpp).
  std::string name = "adamw";
  /// EPS: Adam/AdamW epsilon.
  double eps = 1e-8;
  /// BETAS: Adam/AdamW (beta1, beta2).
  std::array<double, 2> betas = {0.9, 0.999};
  /// MOMENTUM: SGD momentum (the recipe's SGD is always Nesterov).
  double momentum = 0.9;
  /// FLUSH_SUBNORMAL_STATE: stored optimizer state below FLT_MIN becomes zero (fast late in
  /// training; torch keeps the subnormals). Optimizer::set_flush_subnormal_state.
  bool flush_subnormal_state = true;
  /// PARAM_DTYPE, GRAD_DTYPE, STATE_DTYPE: how every param group stores its parameters,
  /// gradients and state: f32, bf16 or f16 (state: f32 or bf16). StorageOptions.
  std::string param_dtype = "f32";
  std::string grad_dtype = "f32";
  std::string state_dtype = "f32";
  /// MASTER_WEIGHTS: fp32 master weights for 16-bit parameters. StorageOptions::master_weights.
  bool master_weights = false;
  /// STOCHASTIC_ROUNDING: bf16 parameters rounded stochastically, seeded by SEED.
  /// StorageOptions::stochastic_rounding.
  bool stochastic_rounding = false;
};

/// TRAIN.LR_SCHEDULER: read and checked here, consumed by build_scheduler (recipe defaults).
struct LrSchedulerConfig {
  /// NAME: case-insensitive scheduler name, one of scheduler_names() (build_scheduler.hpp):
  /// cosine, linear, step, multistep, or a torch scheduler name (StepLR, ...).
  std::string name = "cosine";
  /// DECAY_EPOCHS: epochs between decays of `step` and StepLR.
  int decay_epochs = 30;
  /// DECAY_RATE: lr factor of `step` and StepLR.
  double decay_rate = 0.1;
  /// WARMUP_PREFIX: `cosine` starts after the warmup (timm's warmup_prefix; only `cosine`).
  bool warmup_prefix = true;
  /// GAMMA: lr factor of `multistep` and MultiStepLR, and ExponentialLR's factor per epoch.
  double gamma = 0.1;
  /// MULTISTEPS: epochs at which `multistep` (and MultiStepLR, after the warmup) decays.
  std::vector<int> multisteps = {};
};

/// One entry of TRAIN.PARAM_OVERRIDES: parameters whose name matches the glob PATTERN (`*`, `?`,
/// `[...]`, `[!...]`) get this lr and/or weight decay. The first matching entry wins.
struct ParamOverride {
  /// PATTERN: glob matched against the whole parameter name.
  std::string pattern;
  /// LR: base lr of the matched parameters (layer decay still scales it).
  std::optional<double> lr = std::nullopt;
  /// WEIGHT_DECAY: weight decay of the matched parameters, replacing the recipe's rule.
  std::optional<double> weight_decay = std::nullopt;
};

/// TRAIN: the recipe's training section.
struct TrainConfig {
  /// EPOCHS: training epochs.
  int epochs = 300;
  /// WARMUP_EPOCHS: epochs of linear warmup from WARMUP_LR to BASE_LR.
  int warmup_epochs = 20;
  /// WEIGHT_DECAY: weight decay of the decay group.
  double weight_decay = 0.05;
  /// BASE_LR: the lr after warmup.
  double base_lr = 5e-4;
  /// WARMUP_LR: the lr at the start of warmup.
  double warmup_lr = 5e-7;
  /// MIN_LR: the final lr of the cosine / linear schedules.
  double min_lr = 5e-6;
  /// CLIP_GRAD: max global gradient L2 norm; 0 (or YAML null, the recipe's None) disables.
  double clip_grad = 5.0;
  /// LAYER_DECAY: layer-wise lr decay rate in (0, 1]; 1 disables (timm's layer_decay).
  double layer_decay = 1.0;
  OptimizerConfig optimizer;
  LrSchedulerConfig lr_scheduler;
  /// PARAM_OVERRIDES: per-name lr / weight decay overrides, in priority order.
  std::vector<ParamOverride> param_overrides = {};
  /// MODEL_EMA: keep an EMA of the weights, updated every step (timm's --model-ema).
  bool model_ema = false;
  /// MODEL_EMA_DECAY: its decay (timm's --model-ema-decay).
  double model_ema_decay = 0.9998;
  /// MODEL_EMA_WARMUP: decay min(MODEL_EMA_DECAY, (1 + t) / (10 + t)) after t updates (timm's
  /// --model-ema-warmup).
  bool model_ema_warmup = false;
  /// MODEL_EMA_V3: timm's ModelEmaV3 decay instead of ModelEmaV2's: 0 at the first update, then
  /// MODEL_EMA_DECAY, with MODEL_EMA_WARMUP its power warmup 1 - (1 + t)^(-2/3) (newer timm's
  /// train.py uses ModelEmaV3).
  bool model_ema_v3 = false;
  /// MODEL_EMA_DTYPE: how the average is stored: f32, bf16 or f16.
  std::string model_ema_dtype = "f32";
  /// SWA_START: from the end of this epoch on, a running mean of the weights at the end of
  /// every epoch (torch's swa_utils recipe: `if epoch > swa_start: update_parameters`); 0: off.
  int swa_start = 0;
  /// SWA_LR: the constant lr SWALR anneals to once SWA starts.
  double swa_lr = 0.05;
};

/// DATA: the input pipeline.
struct DataConfig {
  /// BATCH_SIZE: samples per optimizer step.
  int batch_size = 128;
};

/// The whole config. Defaults are the Swin recipe's.
struct Config {
  /// SEED: random seed of data shuffling and initialisation.
  int seed = 0;
  DataConfig data;
  TrainConfig train;
};

/// Parses YAML text over the defaults, like yacs' merge_from_file: keys absent from the text keep
/// their default; an unknown key, a wrong type or an out-of-range value throws
/// std::invalid_argument naming `source`, the line, the full key path (`TRAIN.OPTIMIZER.NAME`),
/// the value and what was expected.
Config parse_config(std::string_view text, std::string_view source = "<string>");

/// Reads and parses a config file (see parse_config). Throws std::invalid_argument when the file
/// cannot be read.
Config load_config(const std::string& path);

/// Checks the ranges of a config built in code; throws std::invalid_argument as parse_config.
void validate_config(const Config& config);

/// The config as YAML, every key included (yacs: `print(config)`). parse_config of the result
/// gives back an equal config.
std::string dump_config(const Config& config);

}  // namespace v1
}  // namespace simdoptim
