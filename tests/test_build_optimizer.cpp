#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/glob.hpp"
#include "invalid_argument_message.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/optimizer_registry.hpp"

using namespace simdoptim;
using Catch::Contains;

namespace {

const std::string kDataDir = SIMDOPTIM_TEST_DATA_DIR "/grouping/";
const std::string kSpecDir = test::kToolsDir + "specs/";

/// A model with one parameter for each branch of the recipe's rule.
ModelSpec rule_model() {
  ModelSpec spec;
  spec.add("embed.weight", {10, 4})                      // decay
      .add("embed.norm.weight", {4})                     // 1-D
      .add("frozen.weight", {4, 4}, false)               // left out
      .add("attn.qkv.bias", {3, 4})                      // ends with .bias (not 1-D)
      .add("pos_embed", {1, 5, 4})                       // in no_weight_decay
      .add("attn.relative_position_bias_table", {9, 2})  // keyword
      .add("head.weight", {2, 4})                        // decay
      .add("head.bias", {2});                            // .bias
  spec.add_no_weight_decay("pos_embed");
  spec.add_no_weight_decay_keyword("relative_position_bias_table");
  return spec;
}

std::vector<std::string> names_of(const ParamGroup& g) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < g.size(); ++i) out.push_back(g.info(i).name);
  return out;
}

std::string build_error(const Config& config, const ModelSpec& model) {
  return test::invalid_argument_message([&] { build_optimizer(config, model); });
}

}  // namespace

TEST_CASE("groups equal the seed recipe's Python build_optimizer on torchvision models",
          "[build_optimizer]") {
  const Config config = load_config(kDataDir + "recipe.yaml");
  for (const char* model : {"resnet50", "swin_t", "vit_b_16"}) {
    INFO(model);
    const ModelSpec spec = load_model_spec(kSpecDir + model + ".yaml");
    const YAML::Node golden = YAML::LoadFile(kDataDir + model + ".yaml");
    const std::vector<ParamGroupPlan> plans = plan_param_groups(config, spec);
    REQUIRE(plans.size() == golden["groups"].size());
    for (std::size_t i = 0; i < plans.size(); ++i) {
      const YAML::Node g = golden["groups"][i];
      CHECK(plans[i].params == g["params"].as<std::vector<std::string>>());
      CHECK(plans[i].options.get("weight_decay") == g["weight_decay"].as<double>());
      CHECK(plans[i].options.get("lr") == g["lr"].as<double>());
    }
  }
}

TEST_CASE("build_optimizer creates the planned groups in an AdamW", "[build_optimizer]") {
  const Config config = load_config(kDataDir + "recipe.yaml");
  const ModelSpec spec = load_model_spec(kSpecDir + "swin_t.yaml");
  const auto optimizer = build_optimizer(config, spec);
  const auto plans = plan_param_groups(config, spec);
  CHECK(optimizer->name() == "adamw");
  REQUIRE(optimizer->param_groups().size() == plans.size());
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const ParamGroup& g = optimizer->param_groups()[i];
    CHECK(names_of(g) == plans[i].params);
    CHECK(g.options().get("weight_decay") == plans[i].options.get("weight_decay"));
    CHECK(g.options().get("lr") == 1e-3 * 0.5);
    CHECK(g.options().get("eps") == 1e-8);
    CHECK(g.options().get("beta2") == 0.999);
  }
  const TensorView table = optimizer->param("features.1.0.attn.relative_position_bias_table");
  CHECK(table.data.size() == 169u * 3u);
}

TEST_CASE("the recipe's rule: frozen out, 1-D / .bias / skip names / keywords undecayed",
          "[build_optimizer]") {
  Config config;
  config.train.weight_decay = 0.1;
  const auto plans = plan_param_groups(config, rule_model());
  REQUIRE(plans.size() == 2);
  CHECK(plans[0].params == std::vector<std::string>{"embed.weight", "head.weight"});
  CHECK(plans[0].options.get("weight_decay") == 0.1);
  CHECK(plans[1].params ==
        std::vector<std::string>{"embed.norm.weight", "attn.qkv.bias", "pos_embed",
                                 "attn.relative_position_bias_table", "head.bias"});
  CHECK(plans[1].options.get("weight_decay") == 0.0);
  CHECK_FALSE(plans[0].options.contains("lr_scale"));

  // No 1-D parameter and no skip: the empty no-decay group is not created.
  ModelSpec only_weights;
  only_weights.add("a", {2, 2}).add("b", {3, 2});
  REQUIRE(plan_param_groups(config, only_weights).size() == 1);
}

TEST_CASE("an empty or fully frozen model is an error", "[build_optimizer]") {
  CHECK_THAT(build_error(Config{}, ModelSpec{}), Contains("the model spec has no parameters"));
  ModelSpec frozen;
  frozen.add("w", {2, 2}, false);
  CHECK_THAT(build_error(Config{}, frozen),
             Contains("all 1 parameters of the model spec are frozen"));
}

TEST_CASE("the optimizer is chosen by case-insensitive name with the recipe's arguments",
          "[build_optimizer]") {
  Config config;
  config.train.base_lr = 0.1;
  config.train.weight_decay = 1e-4;
  config.train.optimizer.name = "SGD";
  config.train.optimizer.momentum = 0.8;
  auto sgd = build_optimizer(config, rule_model());
  CHECK(sgd->name() == "sgd");
  const GroupOptions& o = sgd->param_groups()[0].options();
  CHECK(o.get("nesterov") == 1.0);
  CHECK(o.get("momentum") == 0.8);
  CHECK(o.get("dampening") == 0.0);
  CHECK(o.get("lr") == 0.1);
  CHECK(o.get("weight_decay") == 1e-4);
  CHECK(sgd->param_groups()[1].options().get("weight_decay") == 0.0);
  CHECK(sgd->flush_subnormal_state());
  config.train.optimizer.flush_subnormal_state = false;
  CHECK_FALSE(build_optimizer(config, rule_model())->flush_subnormal_state());
  config.train.optimizer.flush_subnormal_state = true;

  config.train.optimizer.momentum = 0.0;
  CHECK_THAT(build_error(config, rule_model()),
             Contains("TRAIN.OPTIMIZER.MOMENTUM = 0: expected a number > 0 for sgd"));

  config.train.optimizer.name = "Adam";
  config.train.optimizer.betas = {0.8, 0.95};
  auto adam = build_optimizer(config, rule_model());
  CHECK(adam->name() == "adam");
  CHECK(adam->param_groups()[0].options().get("beta1") == 0.8);
  CHECK(adam->param_groups()[0].options().get("weight_decay") == 1e-4);
}

TEST_CASE("an unknown optimizer in a config built in code lists the valid names",
          "[build_optimizer]") {
  Config config;
  config.train.optimizer.name = "lambda";
  std::string listed;  // the registry's names but lbfgs
  for (const std::string& n : registered_optimizers())
    if (n != "lbfgs") listed += (listed.empty() ? "" : ", ") + n;
  CHECK_THAT(
      build_error(config, rule_model()),
      Contains("unknown optimizer 'lambda' (config key TRAIN.OPTIMIZER.NAME); valid names: " +
               listed));
  config.train.optimizer.name = "lbfgs";
  CHECK_THAT(build_error(config, rule_model()), Contains("unknown optimizer 'lbfgs'"));
}

TEST_CASE("every optimizer of the library builds from a config, with the recipe's groups",
          "[build_optimizer]") {
  for (const std::string& name : optimizer_names()) {
    INFO(name);
    Config config;
    config.train.optimizer.name = name;
    config.train.base_lr = 0.01;
    config.train.optimizer.eps = 1e-7;
    config.train.optimizer.betas = {0.85, 0.95};
    auto opt = build_optimizer(config, rule_model());
    CHECK(opt->name() == name);
    REQUIRE(opt->param_groups().size() == 2);
    const GroupOptions& decay = opt->param_groups()[0].options();
    const GroupOptions& no_decay = opt->param_groups()[1].options();
    CHECK(decay.get("lr") == 0.01);
    if (decay.contains("weight_decay")) {
      CHECK(decay.get("weight_decay") == config.train.weight_decay);
      CHECK(no_decay.get("weight_decay") == 0.0);
    }
    if (decay.contains("eps") && name != "adafactor") CHECK(decay.get("eps") == 1e-7);
    if (decay.contains("beta1")) CHECK(decay.get("beta1") == 0.85);
  }
}

TEST_CASE("layer decay gives timm's per-layer lr_scale", "[build_optimizer]") {
  ModelSpec spec;
  spec.add({"stem.weight", {4, 3}, true, 0})
      .add({"stem.bias", {4}, true, 0})
      .add({"blocks.0.weight", {4, 4}, true, 1})
      .add({"head.weight", {2, 4}, true, std::nullopt});  // no id: the last layer
  spec.add({"blocks.1.weight", {4, 4}, true, 2});
  Config config;
  config.train.base_lr = 1e-3;
  config.train.layer_decay = 0.5;
  const auto plans = plan_param_groups(config, spec);
  REQUIRE(plans.size() == 4);
  CHECK(plans[0].params == std::vector<std::string>{"stem.weight"});
  CHECK(plans[1].params == std::vector<std::string>{"stem.bias"});
  CHECK(plans[2].params == std::vector<std::string>{"blocks.0.weight"});
  CHECK(plans[3].params == std::vector<std::string>{"head.weight", "blocks.1.weight"});
  CHECK(plans[0].options.get("lr_scale") == 0.25);  // 0.5 ** (2 - 0)
  CHECK(plans[1].options.get("lr_scale") == 0.25);
  CHECK(plans[1].options.get("weight_decay") == 0.0);
  CHECK(plans[2].options.get("lr_scale") == 0.5);
  CHECK(plans[3].options.get("lr_scale") == 1.0);
  CHECK(plans[0].options.get("lr") == 1e-3 * 0.25);
  CHECK(plans[0].options.get("initial_lr") == 1e-3);

  auto optimizer = build_optimizer(config, spec);
  CHECK(optimizer->param_groups()[0].options().get("lr_scale") == 0.25);

  CHECK_THAT(build_error(config, rule_model()),
             Contains("TRAIN.LAYER_DECAY = 0.5 needs layer ids"));
}

TEST_CASE("layer decay on the exported ViT-B/16 spec", "[build_optimizer]") {
  Config config = load_config(test::kToolsDir + "configs/vit_b_16_finetune.yaml");
  const auto plans = plan_param_groups(config, load_model_spec(kSpecDir + "vit_b_16.yaml"));
  // Layer 0 (class token, patch embedding, position embedding): decay, no-decay (the class
  // token is in the spec's no_weight_decay); the position embedding has its own override bucket. 12
  // blocks x 2. Head layer: encoder.ln (no decay) and heads.* (LR override, two groups).
  CHECK(plans.size() == 3 + 24 + 3);
  CHECK(plans[0].params == std::vector<std::string>{"conv_proj.weight"});
  CHECK(plans[1].params == std::vector<std::string>{"class_token", "conv_proj.bias"});
  CHECK(plans[2].params == std::vector<std::string>{"encoder.pos_embedding"});
  CHECK(plans[2].options.get("weight_decay") == 0.0);
  CHECK(plans.front().options.get("lr_scale") == std::pow(0.65, 13));
  CHECK(plans.back().params == std::vector<std::string>{"heads.head.bias"});
  CHECK(plans.back().options.get("lr") == 5e-3);
  CHECK(plans.back().options.get("lr_scale") == 1.0);
}

TEST_CASE("glob overrides set lr and weight decay, first match wins", "[build_optimizer]") {
  Config config;
  config.train.base_lr = 1e-3;
  config.train.weight_decay = 0.1;
  config.train.param_overrides = {
      {"head.*", 1e-2, std::nullopt},
      {"*.weight", std::nullopt, 0.5},
  };
  const auto plans = plan_param_groups(config, rule_model());
  // Buckets in order of first appearance: "*.weight" (embed.weight), none (pos_embed...),
  // "head.*" (head.weight).
  REQUIRE(plans.size() == 4);
  CHECK(plans[0].params == std::vector<std::string>{"embed.weight", "embed.norm.weight"});
  CHECK(plans[0].options.get("weight_decay") == 0.5);  // the override replaces the 1-D rule
  CHECK(plans[0].options.get("lr") == 1e-3);
  CHECK(plans[1].params == std::vector<std::string>{"attn.qkv.bias", "pos_embed",
                                                    "attn.relative_position_bias_table"});
  CHECK(plans[1].options.get("weight_decay") == 0.0);
  CHECK(plans[2].params == std::vector<std::string>{"head.weight"});
  CHECK(plans[2].options.get("lr") == 1e-2);
  CHECK(plans[2].options.get("weight_decay") == 0.1);
  CHECK(plans[3].params == std::vector<std::string>{"head.bias"});
  CHECK(plans[3].options.get("weight_decay") == 0.0);

  config.train.param_overrides.push_back({"haed.*", 1.0, std::nullopt});
  CHECK_THAT(build_error(config, rule_model()),
             Contains("TRAIN.PARAM_OVERRIDES[2].PATTERN = 'haed.*' matches no trainable "
                      "parameter"));
}

TEST_CASE("glob matching", "[build_optimizer]") {
  using detail::glob_match;
  CHECK(glob_match("*", ""));
  CHECK(glob_match("*", "a.b.c"));
  CHECK(glob_match("blocks.*.attn.*", "blocks.10.attn.qkv.weight"));
  CHECK_FALSE(glob_match("blocks.*.attn", "blocks.10.attn.qkv"));
  CHECK(glob_match("*.bias", "a.bias"));
  CHECK_FALSE(glob_match("*.bias", "a.in_proj_bias"));
  CHECK(glob_match("layer?.0.*", "layer1.0.conv1.weight"));
  CHECK_FALSE(glob_match("layer?.0.*", "layer10.0.conv1.weight"));
  CHECK(glob_match("layer[1-3].*", "layer2.x"));
  CHECK_FALSE(glob_match("layer[1-3].*", "layer4.x"));
  CHECK(glob_match("layer[!1-3].*", "layer4.x"));
  CHECK(glob_match("a[]]b", "a]b"));
  CHECK(glob_match("a\\*b", "a*b"));
  CHECK_FALSE(glob_match("a\\*b", "axb"));
  CHECK(glob_match("a[b", "a[b"));  // unterminated class: literal '['
  CHECK(glob_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
  CHECK_FALSE(glob_match("*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
  CHECK(glob_match("layer[^1-3].*", "layer4.x"));  // '^' negates like '!'
  CHECK(glob_match("a\\\\", "a\\"));               // an escaped backslash
  CHECK(glob_match("a\\", "a\\"));                 // an unpaired final backslash is literal
  CHECK_FALSE(glob_match("a\\", "a"));
  // An embedded NUL never matches (fnmatch would cut the strings short there).
  CHECK_FALSE(glob_match(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST_CASE("glob matching of pathological patterns stays fast", "[build_optimizer]") {
  // Many stars before a character that never comes: a backtracking matcher that retried every
  // earlier star would take (4000 choose 12) steps; fnmatch must answer at once.
  const std::string name(4000, 'a');
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(detail::glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*[b]", name));
  CHECK_FALSE(detail::glob_match("*?*?*?*?*?*?*?*?*?*?*?*?b", name));
  CHECK(detail::glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*", name));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
}

TEST_CASE("the storage keys reach every param group", "[build_optimizer][precision]") {
  Config config = parse_config(R"(
SEED: 3
TRAIN:
  OPTIMIZER:
    NAME: AdamW
    PARAM_DTYPE: BF16
    GRAD_DTYPE: f16
    STATE_DTYPE: bf16
    MASTER_WEIGHTS: true
)");
  auto opt = build_optimizer(config, rule_model());
  REQUIRE(opt->param_groups().size() == 2);
  for (const ParamGroup& g : opt->param_groups()) {
    CHECK(g.param_dtype() == DType::bf16);
    CHECK(g.grad_dtype() == DType::f16);
    CHECK(g.state_dtype() == DType::bf16);
    CHECK(g.storage().master_weights);
    CHECK(g.storage().seed == 3);
  }
  // A combination the storage refuses names the keys.
  config.train.optimizer.master_weights = false;
  config.train.optimizer.stochastic_rounding = true;
  config.train.optimizer.param_dtype = "f16";
  CHECK_THAT(build_error(config, rule_model()),
             Contains("stochastic_rounding needs bf16 parameters") &&
                 Contains("TRAIN.OPTIMIZER.PARAM_DTYPE"));
  CHECK_THROWS_AS(parse_config("TRAIN:\n  OPTIMIZER:\n    STATE_DTYPE: f8\n"),
                  std::invalid_argument);
}
