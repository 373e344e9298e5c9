#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <functional>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "invalid_argument_message.hpp"
#include "simdoptim/adam.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/build_scheduler.hpp"
#include "simdoptim/config.hpp"

using namespace simdoptim;
using Catch::Contains;

namespace {

// The recipe's lengths for the config below: 6 epochs of 5 iterations, 2 of them warmup.
constexpr std::int64_t kPerEpoch = 5;
constexpr std::int64_t kN = 30;  // num_steps = EPOCHS * steps_per_epoch
constexpr std::int64_t kW = 10;  // warmup_steps = WARMUP_EPOCHS * steps_per_epoch
constexpr std::int64_t kD = 10;  // decay_steps = DECAY_EPOCHS * steps_per_epoch
const std::vector<std::int64_t> kMilestones = {15, 25};  // MULTISTEPS * steps_per_epoch

constexpr double kBaseLr = 0.1;
constexpr double kWarmupLr = 1e-4;
constexpr double kMinLr = 1e-5;
constexpr double kDecayRate = 0.5;
constexpr double kGamma = 0.3;

Config recipe(const std::string& name) {
  Config c;
  c.train.epochs = 6;
  c.train.warmup_epochs = 2;
  c.train.base_lr = kBaseLr;
  c.train.warmup_lr = kWarmupLr;
  c.train.min_lr = kMinLr;
  c.train.lr_scheduler.name = name;
  c.train.lr_scheduler.decay_epochs = 2;
  c.train.lr_scheduler.decay_rate = kDecayRate;
  c.train.lr_scheduler.gamma = kGamma;
  c.train.lr_scheduler.multisteps = {3, 5};
  return c;
}

/// Two groups with base lrs 0.1 and 0.01; the second carries lr_scale 0.5 (timm's layer decay),
/// so every value written into it is the schedule's value times 0.5.
struct Groups {
  std::vector<double> base = {0.1, 0.01};
  std::vector<double> scale = {1.0, 0.5};
};

std::unique_ptr<Optimizer> make_optimizer() {
  auto opt = std::make_unique<AdamW>(AdamWOptions{.lr = kBaseLr});
  opt->add_param_group({{"w", {4, 3}}}, {{"lr", 0.1}});
  opt->add_param_group({{"b", {4}}}, {{"lr", 0.01}, {"lr_scale", 0.5}});
  return opt;
}

/// A schedule's unscaled lr at iteration t for a group of base lr b.
using Formula = std::function<double(double b, std::int64_t t)>;

/// timm's warmup (and WarmupLR's): WARMUP_LR + t * ((b - WARMUP_LR) / W) for t < W.
double warmup(double b, std::int64_t t) {
  return kWarmupLr + static_cast<double>(t) * ((b - kWarmupLr) / static_cast<double>(kW));
}

/// Builds the scheduler, then checks every group's lr at t = 0..last against
/// formula(base, t) * lr_scale, stepping once per iteration as the trainer does. The formulas
/// use the implementation's operation order, so most values are equal; the relative tolerance
/// 1e-12 covers the recursive torch forms (a rounding per step) and libm differences.
void check_sequence(const Config& config, const Formula& formula, std::int64_t last) {
  const auto opt = make_optimizer();
  const auto sched = build_scheduler(config, *opt, kPerEpoch);
  const Groups g;
  for (std::int64_t t = 0; t <= last; ++t) {
    if (t > 0) sched->step();
    for (std::size_t i = 0; i < g.base.size(); ++i) {
      INFO("t = " << t << ", group " << i);
      const double expected = formula(g.base[i], t) * g.scale[i];
      CHECK(opt->param_groups()[i].lr() == Approx(expected).epsilon(1e-12).margin(1e-18));
      CHECK(sched->get_last_lr()[i] == opt->param_groups()[i].lr());
    }
  }
}

std::string build_error(const Config& config, std::int64_t steps_per_epoch = kPerEpoch) {
  const auto opt = make_optimizer();
  return test::invalid_argument_message([&] { build_scheduler(config, *opt, steps_per_epoch); });
}

/// Number of milestones m with m <= t (Python's bisect.bisect_right(milestones, t)).
double passed(std::int64_t t) {
  return static_cast<double>(std::count_if(kMilestones.begin(), kMilestones.end(),
                                           [&](std::int64_t m) { return m <= t; }));
}

}  // namespace

TEST_CASE("cosine is timm's CosineLRScheduler with the recipe's arguments", "[build_scheduler]") {
  SECTION("WARMUP_PREFIX true: t_initial = N - W, the cosine starts after the warmup") {
    const Config c = recipe("cosine");
    const auto sched_name = build_scheduler(c, *make_optimizer(), kPerEpoch)->name();
    CHECK(sched_name == "CosineLRScheduler");
    // t >= W: MIN_LR + 0.5 * (b - MIN_LR) * (1 + cos(pi * (t - W) / (N - W))); MIN_LR from N on
    // (cycle_limit 1).
    check_sequence(
        c,
        [](double b, std::int64_t t) {
          if (t < kW) return warmup(b, t);
          if (t >= kN) return kMinLr;
          return kMinLr + 0.5 * (b - kMinLr) *
                              (1 + std::cos(std::numbers::pi * static_cast<double>(t - kW) /
                                            static_cast<double>(kN - kW)));
        },
        kN + 3);
  }
  SECTION("WARMUP_PREFIX false: t_initial = N, the cosine runs under the warmup") {
    Config c = recipe("cosine");
    c.train.lr_scheduler.warmup_prefix = false;
    // t >= W: MIN_LR + 0.5 * (b - MIN_LR) * (1 + cos(pi * t / N)).
    check_sequence(
        c,
        [](double b, std::int64_t t) {
          if (t < kW) return warmup(b, t);
          if (t >= kN) return kMinLr;
          return kMinLr + 0.5 * (b - kMinLr) *
                              (1 + std::cos(std::numbers::pi * static_cast<double>(t) /
                                            static_cast<double>(kN)));
        },
        kN + 3);
  }
}

TEST_CASE("linear is Swin's LinearLRScheduler (lr_min_rate 0.01)", "[build_scheduler]") {
  // t >= W: b - (b - b * 0.01) * ((t - W) / (N - W)); b * 0.01 at t = N.
  check_sequence(
      recipe("linear"),
      [](double b, std::int64_t t) {
        if (t < kW) return warmup(b, t);
        return b - ((b - b * 0.01) * (static_cast<double>(t - kW) / static_cast<double>(kN - kW)));
      },
      kN);
  const auto opt = make_optimizer();
  const auto sched = build_scheduler(recipe("linear"), *opt, kPerEpoch);
  CHECK(sched->name() == "LinearLRScheduler");
  for (std::int64_t t = 0; t < kN; ++t) sched->step();
  CHECK(opt->param_groups()[0].lr() == Approx(0.1 * 0.01).epsilon(1e-12));
}

TEST_CASE("step is timm's StepLRScheduler: decay_t = DECAY_EPOCHS iterations, from t = 0",
          "[build_scheduler]") {
  // t >= W: b * DECAY_RATE^(t // D) (timm's StepLRScheduler has no warmup prefix here).
  check_sequence(
      recipe("step"),
      [](double b, std::int64_t t) {
        if (t < kW) return warmup(b, t);
        return b * std::pow(kDecayRate, static_cast<double>(t / kD));
      },
      kN + 3);
}

TEST_CASE("multistep is Swin's MultiStepLRScheduler: milestones in iterations from t = 0",
          "[build_scheduler]") {
  // t >= W: b * GAMMA^bisect_right([15, 25], t).
  check_sequence(
      recipe("multistep"),
      [](double b, std::int64_t t) {
        if (t < kW) return warmup(b, t);
        return b * std::pow(kGamma, passed(t));
      },
      kN + 3);
}

TEST_CASE("torch names run torch's scheduler after a WarmupLR, counting from its end",
          "[build_scheduler]") {
  SECTION("StepLR: b * DECAY_RATE^((t - W) // D)") {
    check_sequence(
        recipe("StepLR"),
        [](double b, std::int64_t t) {
          if (t < kW) return warmup(b, t);
          return b * std::pow(kDecayRate, static_cast<double>((t - kW) / kD));
        },
        kN);
  }
  SECTION("MultiStepLR: b * GAMMA^bisect_right(milestones, t - W)") {
    check_sequence(
        recipe("multisteplr"),
        [](double b, std::int64_t t) {
          if (t < kW) return warmup(b, t);
          return b * std::pow(kGamma, passed(t - kW));
        },
        kN);
  }
  SECTION("ExponentialLR: b * GAMMA^((t - W) / steps_per_epoch), GAMMA per epoch") {
    check_sequence(
        recipe("ExponentialLR"),
        [](double b, std::int64_t t) {
          if (t < kW) return warmup(b, t);
          return b * std::pow(kGamma, static_cast<double>(t - kW) / static_cast<double>(kPerEpoch));
        },
        kN);
  }
  SECTION("CosineAnnealingLR: MIN_LR + (b - MIN_LR) * (1 + cos(pi * (t - W) / (N - W))) / 2") {
    check_sequence(
        recipe("CosineAnnealingLR"),
        [](double b, std::int64_t t) {
          if (t < kW) return warmup(b, t);
          return kMinLr + (b - kMinLr) *
                              (1 + std::cos(std::numbers::pi * static_cast<double>(t - kW) /
                                            static_cast<double>(kN - kW))) /
                              2;
        },
        kN);
  }
  SECTION("no WarmupLR when WARMUP_EPOCHS = 0") {
    Config c = recipe("StepLR");
    c.train.warmup_epochs = 0;
    const auto opt = make_optimizer();
    const auto sched = build_scheduler(c, *opt, kPerEpoch);
    CHECK(sched->name() == "StepLR");
    CHECK(build_scheduler(recipe("StepLR"), *make_optimizer(), kPerEpoch)->name() == "WarmupLR");
  }
}

TEST_CASE(
    "OneCycleLR: up from b * WARMUP_LR / BASE_LR to b over the warmup, down to "
    "b * MIN_LR / BASE_LR",
    "[build_scheduler]") {
  // torch's phases with pct_start = W / N: steps 0..W-1 go from initial to max, steps
  // W-1..N-1 from max to min, each by cos annealing end + (start - end) / 2 * (cos(pi pct) + 1).
  const auto anneal = [](double start, double end, double pct) {
    return end + (start - end) / 2.0 * (std::cos(std::numbers::pi * pct) + 1);
  };
  check_sequence(
      recipe("OneCycleLR"),
      [&](double b, std::int64_t t) {
        const double initial = b / (kBaseLr / kWarmupLr);
        const double min = initial / (kWarmupLr / kMinLr);
        if (t <= kW - 1) return anneal(initial, b, static_cast<double>(t) / (kW - 1));
        return anneal(b, min, static_cast<double>(t - (kW - 1)) / static_cast<double>(kN - kW));
      },
      kN - 1);
  const auto opt = make_optimizer();
  const auto sched = build_scheduler(recipe("OneCycleLR"), *opt, kPerEpoch);
  for (std::int64_t t = 0; t < kN; ++t) sched->step();          // one step() per optimizer step
  CHECK_THROWS(sched->step());                                  // past total_steps
  CHECK(opt->param_groups()[0].options().get("beta1") == 0.9);  // momentum is not cycled
}

TEST_CASE("warmup: every name ramps from WARMUP_LR to the base lr over WARMUP_EPOCHS",
          "[build_scheduler]") {
  for (const std::string name : {"cosine", "linear", "step", "multistep", "StepLR", "MultiStepLR",
                                 "ExponentialLR", "CosineAnnealingLR"}) {
    INFO(name);
    const auto opt = make_optimizer();
    const auto sched = build_scheduler(recipe(name), *opt, kPerEpoch);
    // The ramp for t < W. At t = W each schedule takes over (the base lr, except `step`, whose
    // decay_t = W already decays at t = W: timm counts its steps from 0).
    for (std::int64_t t = 0; t < kW; ++t) {
      INFO("t = " << t);
      CHECK(opt->param_groups()[0].lr() == Approx(warmup(0.1, t)).epsilon(1e-12));
      CHECK(opt->param_groups()[1].lr() == Approx(warmup(0.01, t) * 0.5).epsilon(1e-12));
      sched->step();
    }
    CHECK(opt->param_groups()[0].lr() == Approx(name == "step" ? 0.1 * kDecayRate : 0.1));
    // WARMUP_EPOCHS = 0: the first lr is the base lr.
    Config no_warmup = recipe(name);
    no_warmup.train.warmup_epochs = 0;
    if (name == "multistep") no_warmup.train.lr_scheduler.multisteps = {1, 2};
    const auto opt2 = make_optimizer();
    build_scheduler(no_warmup, *opt2, kPerEpoch);
    CHECK(opt2->param_groups()[0].lr() == Approx(0.1).epsilon(1e-12));
  }
}

TEST_CASE("build_scheduler works on build_optimizer's groups and steps per iteration",
          "[build_scheduler]") {
  ModelSpec spec;
  spec.add("fc.weight", {3, 2}).add("fc.bias", {3});
  Config c = recipe("linear");
  const auto opt = build_optimizer(c, spec);
  const auto sched = build_scheduler(c, *opt, kPerEpoch);
  REQUIRE(opt->param_groups().size() == 2);
  CHECK(opt->param_groups()[1].lr() == kWarmupLr);
  for (std::int64_t t = 0; t < kW; ++t) {
    opt->step();  // no gradients: a no-op, but the order the trainer uses
    sched->step();
  }
  CHECK(opt->param_groups()[0].lr() == Approx(kBaseLr).epsilon(1e-12));
  CHECK(opt->param_groups()[0].options().get("initial_lr") == kBaseLr);
}

TEST_CASE("the shipped configs build their schedules with their models", "[build_scheduler]") {
  const std::string configs = test::kToolsDir + "configs/";
  const std::string specs = test::kToolsDir + "specs/";
  ModelSpec mlp;
  mlp.add("fc1.weight", {128, 64}).add("fc1.bias", {128});
  const struct {
    const char* config;
    const char* spec;
  } runs[] = {{"digits.yaml", nullptr},
              {"digits_sgd.yaml", nullptr},
              {"swin_t_adamw.yaml", "swin_t.yaml"},
              {"vit_b_16_finetune.yaml", "vit_b_16.yaml"},
              {"resnet50_sgd.yaml", "resnet50.yaml"}};
  for (const auto& run : runs) {
    INFO(run.config);
    const Config c = load_config(configs + run.config);
    const ModelSpec spec = run.spec ? load_model_spec(specs + run.spec) : mlp;
    const auto opt = build_optimizer(c, spec);
    const std::int64_t per_epoch = 10;
    const auto sched = build_scheduler(c, *opt, per_epoch);
    const std::int64_t warmup = c.train.warmup_epochs * per_epoch;
    const ParamGroup& first = opt->param_groups().front();
    const double scale = first.options().get_or("lr_scale", 1.0);
    const double base = first.options().get("initial_lr") * scale;
    CHECK(first.lr() == Approx(warmup > 0 ? c.train.warmup_lr * scale : base));
    for (std::int64_t t = 0; t < warmup; ++t) sched->step();
    CHECK(first.lr() == Approx(base).epsilon(1e-9));  // the base lr when the warmup ends
    for (std::int64_t t = warmup; t < c.train.epochs * per_epoch; ++t) sched->step();
    CHECK(first.lr() < base);  // every shipped schedule has decayed by the end
  }
}

TEST_CASE("a recipe scheduler's state_dict continues the exact sequence", "[build_scheduler]") {
  for (const char* name : {"linear", "step", "multistep", "cosine"}) {
    INFO(name);
    const auto opt = make_optimizer();
    const auto sched = build_scheduler(recipe(name), *opt, kPerEpoch);
    for (int i = 0; i < 13; ++i) sched->step();
    const SchedulerState state = sched->state_dict();
    const auto opt2 = make_optimizer();
    const auto resumed = build_scheduler(recipe(name), *opt2, kPerEpoch);
    resumed->load_state_dict(state);
    for (int i = 0; i < 5; ++i) {
      sched->step();
      resumed->step();
      CHECK(resumed->get_last_lr() == sched->get_last_lr());
    }
  }
}

TEST_CASE("names are case-insensitive and checked when the config is read", "[build_scheduler]") {
  CHECK(build_scheduler(recipe("COSINE"), *make_optimizer(), kPerEpoch)->name() ==
        "CosineLRScheduler");
  CHECK(build_scheduler(recipe("steplr"), *make_optimizer(), kPerEpoch)->name() == "WarmupLR");
  CHECK(scheduler_names() == std::vector<std::string>{"cosine", "linear", "step", "multistep",
                                                      "StepLR", "MultiStepLR", "ExponentialLR",
                                                      "CosineAnnealingLR", "OneCycleLR"});
  CHECK(parse_config("TRAIN:\n  LR_SCHEDULER:\n    NAME: CosineAnnealingLR\n")
            .train.lr_scheduler.name == "CosineAnnealingLR");
  const std::string parse = test::invalid_argument_message(
      [] { parse_config("TRAIN:\n  LR_SCHEDULER:\n    NAME: cosin\n"); });
  CHECK_THAT(parse, Contains("TRAIN.LR_SCHEDULER.NAME = 'cosin': expected one of cosine, linear, "
                             "step, multistep, StepLR, MultiStepLR, ExponentialLR, "
                             "CosineAnnealingLR, OneCycleLR (case-insensitive)"));
}

TEST_CASE("an unknown scheduler name is an error listing the valid names", "[build_scheduler]") {
  CHECK_THAT(build_error(recipe("polynomial")),
             Contains("unknown scheduler 'polynomial' (config key TRAIN.LR_SCHEDULER.NAME); "
                      "valid names: cosine, linear, step, multistep, StepLR, MultiStepLR, "
                      "ExponentialLR, CosineAnnealingLR, OneCycleLR"));
}

TEST_CASE("steps_per_epoch < 1 is an error", "[build_scheduler]") {
  for (const std::int64_t bad : {std::int64_t{0}, std::int64_t{-3}}) {
    CHECK_THAT(build_error(recipe("cosine"), bad),
               Contains("steps_per_epoch = " + std::to_string(bad) + ": expected an integer >= 1"));
  }
}

TEST_CASE("configs the recipe cannot run are errors naming the key", "[build_scheduler]") {
  SECTION("no iterations after the warmup") {
    for (const char* name : {"cosine", "linear", "CosineAnnealingLR", "OneCycleLR"}) {
      Config c = recipe(name);
      c.train.warmup_epochs = c.train.epochs;
      CHECK_THAT(build_error(c), Contains("config key TRAIN.EPOCHS = 6: expected more than "
                                          "TRAIN.WARMUP_EPOCHS = 6 for scheduler '"));
    }
    Config no_prefix = recipe("cosine");  // t_initial = N: the cosine runs under the warmup
    no_prefix.train.warmup_epochs = no_prefix.train.epochs;
    no_prefix.train.lr_scheduler.warmup_prefix = false;
    CHECK(build_error(no_prefix).empty());
  }
  SECTION("MULTISTEPS") {
    Config c = recipe("multistep");
    c.train.lr_scheduler.multisteps = {};
    CHECK_THAT(build_error(c), Contains("TRAIN.LR_SCHEDULER.MULTISTEPS = []: expected a "
                                        "non-empty list of epochs for scheduler 'multistep'"));
    c.train.lr_scheduler.multisteps = {4, 4};
    CHECK_THAT(build_error(c), Contains("= [4, 4]: expected strictly increasing epochs"));
    c.train.lr_scheduler.multisteps = {1, 4};
    CHECK_THAT(build_error(c),
               Contains("= [1, 4]: expected every milestone >= TRAIN.WARMUP_EPOCHS = 2"));
    c.train.lr_scheduler.name = "MultiStepLR";  // counts after the warmup: any milestone
    CHECK(build_error(c).empty());
  }
  SECTION("OneCycleLR needs a warmup and positive lrs") {
    Config c = recipe("OneCycleLR");
    c.train.warmup_epochs = 0;
    CHECK_THAT(build_error(c), Contains("TRAIN.WARMUP_EPOCHS = 0: expected an integer >= 1"));
    c = recipe("OneCycleLR");
    c.train.min_lr = 0.0;
    CHECK_THAT(build_error(c), Contains("TRAIN.MIN_LR = 0: expected a number > 0"));
  }
  SECTION("an invalid config") {
    Config c = recipe("cosine");
    c.train.epochs = 0;
    CHECK_THAT(build_error(c), Contains("TRAIN.EPOCHS = 0"));
  }
}
