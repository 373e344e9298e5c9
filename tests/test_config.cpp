#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "invalid_argument_message.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/optimizer_registry.hpp"

using namespace simdoptim;
using Catch::Contains;

namespace {

const std::string kConfigDir = test::kToolsDir + "configs/";

/// The message parse_config throws for `yaml`, or "" when it parses.
std::string parse_error(const std::string& yaml) {
  return test::invalid_argument_message([&] { parse_config(yaml); });
}

}  // namespace

TEST_CASE("defaults are the Swin recipe's", "[config]") {
  const Config c = parse_config("");
  CHECK(c.train.optimizer.name == "adamw");
  CHECK(c.train.optimizer.eps == 1e-8);
  CHECK(c.train.optimizer.betas == std::array<double, 2>{0.9, 0.999});
  CHECK(c.train.optimizer.momentum == 0.9);
  CHECK(c.train.optimizer.flush_subnormal_state);
  CHECK(c.train.base_lr == 5e-4);
  CHECK(c.train.weight_decay == 0.05);
  CHECK(c.train.epochs == 300);
  CHECK(c.train.warmup_epochs == 20);
  CHECK(c.train.warmup_lr == 5e-7);
  CHECK(c.train.min_lr == 5e-6);
  CHECK(c.train.clip_grad == 5.0);
  CHECK(c.train.layer_decay == 1.0);
  CHECK(c.train.lr_scheduler.name == "cosine");
  CHECK(c.train.lr_scheduler.decay_epochs == 30);
  CHECK(c.train.lr_scheduler.decay_rate == 0.1);
  CHECK(c.data.batch_size == 128);
  CHECK_NOTHROW(validate_config(c));
}

TEST_CASE("keys given override the defaults, the rest keep them", "[config]") {
  const Config c = parse_config(R"(
SEED: 7
TRAIN:
  BASE_LR: 1.0e-3
  CLIP_GRAD: null
  OPTIMIZER:
    NAME: SGD
    BETAS: [0.8, 0.99]
    FLUSH_SUBNORMAL_STATE: false
  LR_SCHEDULER:
    NAME: multistep
    MULTISTEPS: [30, 60]
    WARMUP_PREFIX: false
  PARAM_OVERRIDES:
    - {PATTERN: "head.*", LR: 0.01}
    - {PATTERN: "*.norm*", WEIGHT_DECAY: 0}
)");
  CHECK(c.seed == 7);
  CHECK(c.train.base_lr == 1e-3);
  CHECK(c.train.clip_grad == 0.0);  // null is the recipe's None: no clipping
  CHECK(c.train.optimizer.name == "SGD");
  CHECK(c.train.optimizer.betas == std::array<double, 2>{0.8, 0.99});
  CHECK(c.train.optimizer.eps == 1e-8);
  CHECK_FALSE(c.train.optimizer.flush_subnormal_state);
  CHECK(c.train.lr_scheduler.multisteps == std::vector<int>{30, 60});
  CHECK_FALSE(c.train.lr_scheduler.warmup_prefix);
  REQUIRE(c.train.param_overrides.size() == 2);
  CHECK(c.train.param_overrides[0].pattern == "head.*");
  CHECK(c.train.param_overrides[0].lr == 0.01);
  CHECK_FALSE(c.train.param_overrides[0].weight_decay.has_value());
  CHECK(c.train.param_overrides[1].weight_decay == 0.0);
}

TEST_CASE("every example config parses", "[config]") {
  for (const char* name : {"digits.yaml", "digits_ema.yaml", "digits_sgd.yaml", "swin_t_adamw.yaml",
                           "vit_b_16_finetune.yaml", "resnet50_sgd.yaml"}) {
    INFO(name);
    CHECK_NOTHROW(load_config(kConfigDir + name));
  }
}

TEST_CASE("the averaging keys give the optimizer's averaging", "[config]") {
  using Mode = AveragingOptions::Mode;
  Config c = load_config(kConfigDir + "digits_ema.yaml");
  AveragingOptions a = averaging_options(c, 45);
  CHECK(a.mode == Mode::ema);
  CHECK(a.decay == 0.998);
  CHECK(a.warmup);
  CHECK(a.every == 1);
  c.train.model_ema = false;
  c.train.swa_start = 3;
  a = averaging_options(c, 45);
  CHECK(a.mode == Mode::swa);
  CHECK(a.start == 135);
  CHECK(a.every == 45);
  c.train.swa_start = 0;
  CHECK(averaging_options(c, 45).mode == Mode::none);
  c.train.model_ema = true;
  c.train.swa_start = 1;
  CHECK_THROWS_AS(averaging_options(c, 45), std::invalid_argument);
  CHECK_THAT(parse_error("TRAIN:\n  MODEL_EMA_DECAY: 1.5\n"),
             Contains("config key TRAIN.MODEL_EMA_DECAY = '1.5': expected a number in [0, 1]"));
  CHECK_FALSE(a.v3.enabled);
  CHECK(a.dtype == DType::f32);
  c.train.swa_start = 0;
  c.train.model_ema_v3 = true;
  c.train.model_ema_dtype = "bf16";
  a = averaging_options(c, 45);
  CHECK(a.v3.enabled);
  CHECK(a.dtype == DType::bf16);
  CHECK_THAT(parse_error("TRAIN:\n  MODEL_EMA_DTYPE: f64\n"), Contains("TRAIN.MODEL_EMA_DTYPE"));
}

TEST_CASE("dump_config writes every key and parses back to the same config", "[config]") {
  const Config c = load_config(kConfigDir + "vit_b_16_finetune.yaml");
  const std::string text = dump_config(c);
  CHECK_THAT(text, Contains("BASE_LR: 0.0005"));
  CHECK_THAT(text, Contains("LAYER_DECAY: 0.65"));
  CHECK_THAT(text, Contains("MULTISTEPS: []"));
  CHECK(dump_config(parse_config(text)) == text);
}

TEST_CASE("an unknown key is an error naming its full path", "[config]") {
  const std::string msg = parse_error("TRAIN:\n  OPTIMIZER:\n    NAMEE: sgd\n");
  CHECK_THAT(msg, Contains("<string>:3:5: unknown config key 'TRAIN.OPTIMIZER.NAMEE'"));
  CHECK_THAT(msg, Contains("did you mean 'TRAIN.OPTIMIZER.NAME'?"));
  CHECK_THAT(
      msg,
      Contains(
          "valid keys under TRAIN.OPTIMIZER: NAME, EPS, BETAS, MOMENTUM, FLUSH_SUBNORMAL_STATE"));
  CHECK_THAT(parse_error("MODEL:\n  NAME: swin\n"), Contains("unknown config key 'MODEL'"));
  CHECK_THAT(parse_error("TRAIN:\n  PARAM_OVERRIDES:\n    - {PATTERN: a, LRR: 1}\n"),
             Contains("unknown config key 'TRAIN.PARAM_OVERRIDES[0].LRR'"));
}

TEST_CASE("a value of the wrong type is an error naming key, value and expected type", "[config]") {
  CHECK_THAT(parse_error("TRAIN:\n  BASE_LR: abc\n"),
             Contains("<string>:2:12: config key TRAIN.BASE_LR = 'abc': expected a number >= 0"));
  CHECK_THAT(parse_error("TRAIN:\n  EPOCHS: 1.5\n"),
             Contains("config key TRAIN.EPOCHS = '1.5': expected an integer >= 1"));
  CHECK_THAT(parse_error("TRAIN:\n  OPTIMIZER:\n    BETAS: 0.9\n"),
             Contains("TRAIN.OPTIMIZER.BETAS = '0.9': expected a list of two numbers in [0, 1)"));
  CHECK_THAT(parse_error("TRAIN: 5\n"),
             Contains("config key TRAIN = '5': expected a mapping with keys EPOCHS"));
  CHECK_THAT(parse_error("TRAIN:\n  LR_SCHEDULER:\n    WARMUP_PREFIX: maybe\n"),
             Contains("TRAIN.LR_SCHEDULER.WARMUP_PREFIX = 'maybe': expected true or false"));
  CHECK_THAT(
      parse_error("TRAIN:\n  OPTIMIZER:\n    NAME: [adamw]\n"),
      Contains(
          "TRAIN.OPTIMIZER.NAME = [adamw]: expected one of adadelta, adafactor, adagrad, adam,"));
}

TEST_CASE("an out-of-range value is an error naming key, value and allowed range", "[config]") {
  CHECK_THAT(parse_error("TRAIN:\n  BASE_LR: -0.1\n"),
             Contains("config key TRAIN.BASE_LR = '-0.1': expected a number >= 0"));
  CHECK_THAT(parse_error("TRAIN:\n  OPTIMIZER:\n    BETAS: [0.9, 1.0]\n"),
             Contains("TRAIN.OPTIMIZER.BETAS = [0.9, 1.0]: expected a list of two numbers in "
                      "[0, 1)"));
  CHECK_THAT(parse_error("TRAIN:\n  LAYER_DECAY: 0\n"),
             Contains("TRAIN.LAYER_DECAY = '0': expected a number in (0, 1]"));
  CHECK_THAT(parse_error("DATA:\n  BATCH_SIZE: 0\n"),
             Contains("DATA.BATCH_SIZE = '0': expected an integer >= 1"));
  CHECK_THAT(parse_error("TRAIN:\n  WEIGHT_DECAY: .nan\n"),
             Contains("TRAIN.WEIGHT_DECAY = '.nan': expected a number >= 0"));

  Config c;
  c.train.base_lr = -1.0;
  CHECK_THROWS_WITH(validate_config(c),
                    Contains("config key TRAIN.BASE_LR = -1: expected a number >= 0"));
}

TEST_CASE("an unknown optimizer name is an error listing the valid names", "[config]") {
  // Every registered optimizer except LBFGS (closure-driven, one group).
  std::vector<std::string> expected;
  std::string listed;
  for (const std::string& n : registered_optimizers()) {
    if (n == "lbfgs") continue;
    expected.push_back(n);
    listed += (listed.empty() ? "" : ", ") + n;
  }
  CHECK(optimizer_names() == expected);
  CHECK_THAT(
      parse_error("TRAIN:\n  OPTIMIZER:\n    NAME: lambda\n"),
      Contains("<string>:3:11: config key TRAIN.OPTIMIZER.NAME = 'lambda': expected one of " +
               listed + " (case-insensitive)"));
  CHECK(parse_error("TRAIN:\n  OPTIMIZER:\n    NAME: AdamW\n").empty());
}

TEST_CASE("unreadable and malformed files are errors naming the file", "[config]") {
  CHECK_THROWS_WITH(load_config("/nonexistent/c.yaml"),
                    Contains("cannot read config file '/nonexistent/c.yaml'"));
  CHECK_THAT(parse_error("TRAIN:\n  BASE_LR: [1, 2\n"),
             Contains("<string>:3:1: YAML syntax error"));
  CHECK_THAT(parse_error("- a\n- b\n"),
             Contains("config key (top level) = [a, b]: expected a mapping with keys SEED, DATA, "
                      "TRAIN"));
}
