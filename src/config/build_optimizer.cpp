#include "simdoptim/build_optimizer.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string_view>

#include "config/glob.hpp"
#include "config/text.hpp"
#include "simdoptim/adam.hpp"
#include "simdoptim/optimizer_registry.hpp"
#include "simdoptim/sgd.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

template <class Options>
Options adam_options(const Config& config) {
  Options o;
  o.lr = config.train.base_lr;
  o.beta1 = config.train.optimizer.betas[0];
  o.beta2 = config.train.optimizer.betas[1];
  o.eps = config.train.optimizer.eps;
  o.weight_decay = config.train.weight_decay;
  return o;
}

/// The recipe's constructor call for each optimizer name; adding an optimizer is one row.
struct OptimizerEntry {
  std::string_view name;
  std::unique_ptr<Optimizer> (*make)(const Config&, RuntimeOptions);
};

constexpr std::array<OptimizerEntry, 3> kOptimizers = {{
    {"adam",
     [](const Config& c, RuntimeOptions r) -> std::unique_ptr<Optimizer> {
       return std::make_unique<Adam>(adam_options<AdamOptions>(c), r);
     }},
    {"adamw",
     [](const Config& c, RuntimeOptions r) -> std::unique_ptr<Optimizer> {
       return std::make_unique<AdamW>(adam_options<AdamWOptions>(c), r);
     }},
    {"sgd",
     [](const Config& c, RuntimeOptions r) -> std::unique_ptr<Optimizer> {
       if (c.train.optimizer.momentum <= 0.0) {
         throw std::invalid_argument(
             "config key TRAIN.OPTIMIZER.MOMENTUM = " +
             detail::format_number(c.train.optimizer.momentum) +
             ": expected a number > 0 for sgd (the recipe's SGD is Nesterov, which needs "
             "momentum)");
       }
       SGDOptions o;
       o.lr = c.train.base_lr;
       o.momentum = c.train.optimizer.momentum;
       o.nesterov = true;
       o.weight_decay = c.train.weight_decay;
       return std::make_unique<SGD>(o, r);
     }},
}};

/// Parameters that share a layer (under layer decay) and an override entry.
struct Bucket {
  int layer = 0;
  std::optional<std::size_t> override_index;
  std::vector<std::string> decay;
  std::vector<std::string> no_decay;
};

void check_not_empty(const ModelSpec& model) {
  if (model.empty()) {
    throw std::invalid_argument("build_optimizer: the model spec has no parameters");
  }
  const bool any = std::any_of(model.params().begin(), model.params().end(),
                               [](const ParamInfo& p) { return p.requires_grad; });
  if (!any) {
    throw std::invalid_argument("build_optimizer: all " + std::to_string(model.size()) +
                                " parameters of the model spec are frozen (requires_grad: "
                                "false); there is nothing to optimize");
  }
}

/// timm's layer_max: the largest layer id of a trainable parameter. Throws when there is none.
int max_layer_id(const Config& config, const ModelSpec& model) {
  std::optional<int> max_id;
  for (const ParamInfo& p : model.params()) {
    if (p.requires_grad && p.layer_id) max_id = std::max(max_id.value_or(0), *p.layer_id);
  }
  if (!max_id) {
    throw std::invalid_argument(
        "config key TRAIN.LAYER_DECAY = " + detail::format_number(config.train.layer_decay) +
        " needs layer ids, but no trainable parameter of the model spec has a layer_id");
  }
  return *max_id;
}

std::optional<std::size_t> first_override(const Config& config, std::string_view name) {
  const std::vector<ParamOverride>& overrides = config.train.param_overrides;
  for (std::size_t i = 0; i < overrides.size(); ++i) {
    if (detail::glob_match(overrides[i].pattern, name)) return i;
  }
  return std::nullopt;
}

std::vector<Bucket> bucket_params(const Config& config, const ModelSpec& model, bool layer_decay,
                                  int layer_max) {
  std::vector<Bucket> buckets;
  std::vector<bool> override_used(config.train.param_overrides.size(), false);
  for (const ParamInfo& p : model.params()) {
    if (!p.requires_grad) continue;  // frozen weights
    const int layer = layer_decay ? p.layer_id.value_or(layer_max) : 0;
    const std::optional<std::size_t> o = first_override(config, p.name);
    auto it = std::find_if(buckets.begin(), buckets.end(), [&](const Bucket& b) {
      return b.layer == layer && b.override_index == o;
    });
    if (it == buckets.end()) it = buckets.insert(buckets.end(), Bucket{layer, o, {}, {}});
    const bool fixed_decay = o && config.train.param_overrides[*o].weight_decay.has_value();
    if (o) override_used[*o] = true;
    (!fixed_decay && skips_weight_decay(p, model) ? it->no_decay : it->decay).push_back(p.name);
  }
  for (std::size_t i = 0; i < override_used.size(); ++i) {
    if (!override_used[i]) {
      throw std::invalid_argument("config key TRAIN.PARAM_OVERRIDES[" + std::to_string(i) +
                                  "].PATTERN = '" + config.train.param_overrides[i].pattern +
                                  "' matches no trainable parameter" +
                                  (model.model_name().empty() ? "" : " of " + model.model_name()) +
                                  " (or only ones an earlier entry matched)");
    }
  }
  return buckets;
}

}  // namespace

// LBFGS needs a closure and a single group, which the recipe's grouping does not give.
bool recipe_can_build(std::string_view name) {
  return name != "lbfgs";
}

std::vector<std::string> optimizer_names() {
  std::vector<std::string> names;
  for (const std::string& n : registered_optimizers())
    if (recipe_can_build(n)) names.push_back(n);
  return names;
}

bool skips_weight_decay(const ParamInfo& param, const ModelSpec& model) {
  const auto& skip = model.no_weight_decay();
  const auto& keywords = model.no_weight_decay_keywords();
  return param.shape.size() == 1 || param.name.ends_with(".bias") ||
         std::find(skip.begin(), skip.end(), param.name) != skip.end() ||
         std::any_of(keywords.begin(), keywords.end(),
                     [&](const std::string& k) { return param.name.find(k) != std::string::npos; });
}

std::vector<ParamGroupPlan> plan_param_groups(const Config& config, const ModelSpec& model) {
  validate_config(config);
  check_not_empty(model);
  const bool layer_decay = config.train.layer_decay < 1.0;
  const int layer_max = layer_decay ? max_layer_id(config, model) : 0;

  std::vector<ParamGroupPlan> plans;
  for (Bucket& b : bucket_params(config, model, layer_decay, layer_max)) {
    const ParamOverride* o =
        b.override_index ? &config.train.param_overrides[*b.override_index] : nullptr;
    const double base_lr = o && o->lr ? *o->lr : config.train.base_lr;
    const double decay = o && o->weight_decay ? *o->weight_decay : config.train.weight_decay;
    // timm: layer_scales = [layer_decay ** (layer_max - i) for i in range(num_layers)]
    const double scale =
        layer_decay ? std::pow(config.train.layer_decay, static_cast<double>(layer_max - b.layer))
                    : 1.0;
    auto emit = [&](std::vector<std::string>& names, double weight_decay) {
      if (names.empty()) return;
      GroupOptions options{{"lr", base_lr * scale}, {"weight_decay", weight_decay}};
      if (layer_decay) {
        options.set("lr_scale", scale);
        options.set("initial_lr", base_lr);
      }
      plans.push_back({std::move(names), std::move(options)});
    };
    emit(b.decay, decay);
    emit(b.no_decay, 0.0);
  }
  return plans;
}

std::unique_ptr<Optimizer> build_optimizer(const Config& config, const ModelSpec& model,
                                           RuntimeOptions runtime) {
  const std::string name = detail::to_lower(config.train.optimizer.name);
  const std::vector<std::string> names = optimizer_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    throw std::invalid_argument(
        "build_optimizer: unknown optimizer '" + config.train.optimizer.name +
        "' (config key TRAIN.OPTIMIZER.NAME); valid names: " + detail::join(names));
  }
  const std::vector<ParamGroupPlan> plans = plan_param_groups(config, model);
  const auto entry = std::find_if(kOptimizers.begin(), kOptimizers.end(),
                                  [&](const OptimizerEntry& e) { return e.name == name; });
  // The recipe's own optimizers take its constructor arguments; any other starts from torch's
  // defaults and takes the recipe's eps and betas where it has them.
  std::unique_ptr<Optimizer> optimizer =
      entry != kOptimizers.end() ? entry->make(config, runtime) : make_optimizer(name, runtime);
  optimizer->set_flush_subnormal_state(config.train.optimizer.flush_subnormal_state);
  const OptimizerConfig& oc = config.train.optimizer;
  StorageOptions storage{.param = parse_dtype(oc.param_dtype),
                         .grad = parse_dtype(oc.grad_dtype),
                         .state = parse_dtype(oc.state_dtype),
                         .master_weights = oc.master_weights,
                         .stochastic_rounding = oc.stochastic_rounding,
                         .seed = static_cast<std::uint64_t>(config.seed)};
  try {
    storage.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("build_optimizer: ") + e.what() +
                                " (config keys TRAIN.OPTIMIZER.PARAM_DTYPE, GRAD_DTYPE, "
                                "STATE_DTYPE, MASTER_WEIGHTS, STOCHASTIC_ROUNDING)");
  }
  const GroupOptions& defaults = optimizer->defaults();
  for (const ParamGroupPlan& plan : plans) {
    std::vector<ParamSpec> specs;
    specs.reserve(plan.params.size());
    for (const std::string& n : plan.params) specs.push_back({n, model.find(n)->shape});
    GroupOptions options;
    for (const auto& [key, value] : plan.options.items())
      if (defaults.contains(key) || key == "initial_lr" || key == "lr_scale")
        options.set(key, value);
    if (entry == kOptimizers.end()) {
      if (defaults.contains("eps")) options.set("eps", config.train.optimizer.eps);
      if (defaults.contains("beta1")) options.set("beta1", config.train.optimizer.betas[0]);
      if (defaults.contains("beta2")) options.set("beta2", config.train.optimizer.betas[1]);
    }
    optimizer->add_param_group(std::move(specs), options, storage);
  }
  return optimizer;
}

AveragingOptions averaging_options(const Config& config, std::int64_t steps_per_epoch) {
  validate_config(config);
  if (steps_per_epoch < 1)
    throw std::invalid_argument("averaging_options: steps_per_epoch must be at least 1, got " +
                                std::to_string(steps_per_epoch));
  const TrainConfig& t = config.train;
  if (t.model_ema && t.swa_start > 0)
    throw std::invalid_argument(
        "config keys TRAIN.MODEL_EMA = true and TRAIN.SWA_START = " + std::to_string(t.swa_start) +
        ": an optimizer keeps one average, EMA or SWA");
  AveragingOptions a;
  if (t.model_ema) {
    a.mode = AveragingOptions::Mode::ema;
    a.decay = t.model_ema_decay;
    a.warmup = t.model_ema_warmup;
    a.v3.enabled = t.model_ema_v3;
    a.dtype = parse_dtype(t.model_ema_dtype);
  } else if (t.swa_start > 0) {
    a.mode = AveragingOptions::Mode::swa;
    a.start = static_cast<std::int64_t>(t.swa_start) * steps_per_epoch;
    a.every = steps_per_epoch;
  }
  return a;
}

}  // namespace v1
}  // namespace simdoptim
