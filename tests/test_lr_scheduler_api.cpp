// Scheduler behaviour beyond the golden sequences: state_dict round trips, closed forms against
// stepping, groups added later, lr_scale, WarmupLR, timm's CosineLRScheduler formulas and
// bad input.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <stdexcept>
#include <vector>

#include "simdoptim/lr_scheduler.hpp"
#include "test_lr_scheduler_util.hpp"

using namespace simdoptim;
using namespace sched_test;
using Catch::Contains;

namespace {

using Factory = std::function<std::unique_ptr<Scheduler>(Optimizer&)>;

// Runs `make` for `total` steps in one go, and again saving at `k`, loading into a fresh
// scheduler on a fresh optimizer (whose lrs are restored from the first, as a checkpoint of the
// optimizer would), continuing to `total`. Both sequences must be identical.
void check_round_trip(const Factory& make, bool adam, int k, int total) {
  auto opt_a = adam ? make_adam() : make_sgd();
  auto a = make(*opt_a);
  std::vector<std::vector<double>> expected;
  for (int i = 0; i < total; ++i) {
    a->step();
    expected.push_back(lrs(*opt_a));
  }

  auto opt_b = adam ? make_adam() : make_sgd();
  auto b = make(*opt_b);
  for (int i = 0; i < k; ++i) b->step();
  const SchedulerState saved = b->state_dict();
  const std::vector<double> saved_lrs = lrs(*opt_b);
  const std::vector<double> saved_m = momenta(*opt_b);

  auto opt_c = adam ? make_adam() : make_sgd();
  auto c = make(*opt_c);
  c->step();  // moves away from the saved state, so the load has to restore it
  c->load_state_dict(saved);
  CHECK(c->state_dict() == saved);
  const char* key = adam ? "beta1" : "momentum";
  for (std::size_t g = 0; g < saved_lrs.size(); ++g) {
    opt_c->param_groups()[g].set_lr(saved_lrs[g]);
    opt_c->param_groups()[g].options().set(key, saved_m[g]);
  }
  for (int i = k; i < total; ++i) {
    c->step();
    INFO("step " << i + 1);
    CHECK(lrs(*opt_c) == expected[static_cast<std::size_t>(i)]);
  }
}

OneCycleLROptions one_cycle(std::int64_t total) {
  OneCycleLROptions o;
  o.max_lr = {0.1, 0.05};
  o.total_steps = total;
  return o;
}

}  // namespace

TEST_CASE("state_dict round trip continues the exact sequence", "[scheduler]") {
  const std::vector<std::pair<const char*, Factory>> makers = {
      {"StepLR", [](Optimizer& o) { return std::make_unique<StepLR>(o, 7, 0.5); }},
      {"CosineAnnealingLR",
       [](Optimizer& o) { return std::make_unique<CosineAnnealingLR>(o, 20); }},
      {"CosineAnnealingWarmRestarts",
       [](Optimizer& o) { return std::make_unique<CosineAnnealingWarmRestarts>(o, 5, 2); }},
      {"CyclicLR",
       [](Optimizer& o) {
         CyclicLROptions c;
         c.base_lr = {1e-3};
         c.max_lr = {0.1};
         c.step_size_up = 6;
         c.mode = "triangular2";
         return std::make_unique<CyclicLR>(o, c);
       }},
      {"OneCycleLR", [](Optimizer& o) { return std::make_unique<OneCycleLR>(o, one_cycle(100)); }},
      {"SWALR",
       [](Optimizer& o) {
         return std::make_unique<SWALR>(o, std::vector{0.02, 1e-3}, 25);
       }},
      {"SequentialLR",
       [](Optimizer& o) {
         std::vector<std::unique_ptr<LRScheduler>> v;
         v.push_back(std::make_unique<LinearLR>(o, 0.1, 1.0, 10));
         v.push_back(std::make_unique<CosineAnnealingLR>(o, 30));
         return std::make_unique<SequentialLR>(o, std::move(v), std::vector<std::int64_t>{10});
       }},
      {"ChainedScheduler",
       [](Optimizer& o) {
         std::vector<std::unique_ptr<Scheduler>> v;
         v.push_back(std::make_unique<ConstantLR>(o, 0.2, 15));
         v.push_back(std::make_unique<ExponentialLR>(o, 0.95));
         return std::make_unique<ChainedScheduler>(std::move(v));
       }},
      {"WarmupLR",
       [](Optimizer& o) {
         return std::make_unique<WarmupLR>(std::make_unique<CosineAnnealingLR>(o, 40), 12, 1e-4);
       }},
      {"CosineLRScheduler",
       [](Optimizer& o) {
         return std::make_unique<CosineLRScheduler>(o, CosineLROptions{.t_initial = 20,
                                                                       .lr_min = 1e-5,
                                                                       .cycle_mul = 1.5,
                                                                       .cycle_decay = 0.5,
                                                                       .cycle_limit = 4,
                                                                       .warmup_t = 5});
       }},
  };
  for (const auto& [name, make] : makers) {
    SECTION(name) {
      for (const int k : {0, 3, 11, 37}) {
        INFO("saved at " << k);
        check_round_trip(make, false, k, 60);
      }
    }
  }
  SECTION("ReduceLROnPlateau") {
    const std::vector<double> metrics = {5, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2};
    auto opt_a = make_sgd();
    ReduceLROnPlateau a(*opt_a, {.factor = 0.5, .patience = 1, .cooldown = 1});
    auto opt_b = make_sgd();
    ReduceLROnPlateau b(*opt_b, {.factor = 0.5, .patience = 1, .cooldown = 1});
    for (std::size_t i = 0; i < 7; ++i) a.step(metrics[i]);
    b.load_state_dict(a.state_dict());
    for (std::size_t g = 0; g < 2; ++g) opt_b->param_groups()[g].set_lr(lrs(*opt_a)[g]);
    for (std::size_t i = 7; i < metrics.size(); ++i) {
      a.step(metrics[i]);
      b.step(metrics[i]);
      CHECK(lrs(*opt_a) == lrs(*opt_b));
      CHECK(a.num_bad_epochs() == b.num_bad_epochs());
    }
    CHECK(lrs(*opt_a)[0] < 0.1);  // it did reduce
  }
  SECTION("a state of another kind is refused") {
    auto opt = make_sgd();
    StepLR s(*opt, 3);
    ExponentialLR e(*opt, 0.9);
    CHECK_THROWS_WITH(s.load_state_dict(e.state_dict()), Contains("ExponentialLR"));
  }
}

TEST_CASE("closed forms equal the stepped sequence", "[scheduler]") {
  auto opt = make_sgd();
  StepLR step(*opt, 4, 0.5);
  auto opt2 = make_sgd();
  CosineAnnealingLR cos(*opt2, 25, 1e-3);
  auto opt3 = make_sgd();
  CyclicLROptions c;
  c.base_lr = {1e-3};
  c.max_lr = {0.1};
  c.step_size_up = 5;
  CyclicLR cyc(*opt3, c);
  for (std::int64_t e = 1; e <= 40; ++e) {
    step.step();
    cos.step();
    cyc.step();
    CHECK_THAT(lrs(*opt)[0], Catch::WithinRel(step.lr_at(e)[0], 1e-14));
    CHECK_THAT(lrs(*opt2)[1], Catch::WithinRel(cos.lr_at(e)[1], 1e-12));
    CHECK(lrs(*opt3) == cyc.lr_at(e));
    CHECK(momenta(*opt3) == cyc.momentum_at(e));
  }
  CHECK(step_lr_at(1.0, 9, 4, 0.5) == 0.25);
  CHECK(multistep_lr_at(1.0, 5, {2, 5, 9}, 0.1) == 1.0 * std::pow(0.1, 2.0));
}

TEST_CASE("a group added after construction is handled as torch handles it", "[scheduler]") {
  // torch 1.13: recursive forms update the new group; base_lrs forms leave it alone.
  auto opt = make_sgd();
  StepLR step(*opt, 2, 0.5);
  opt->add_param_group({{"c", {1}}}, {{"lr", 1.0}});
  for (int i = 0; i < 4; ++i) step.step();
  CHECK(opt->param_groups()[2].lr() == 0.25);
  CHECK_FALSE(opt->param_groups()[2].options().contains("initial_lr"));
  CHECK(step.get_last_lr().size() == 3);

  auto opt2 = make_sgd();
  LambdaLR lam(*opt2, [](std::int64_t e) { return std::pow(0.5, static_cast<double>(e)); });
  opt2->add_param_group({{"c", {1}}}, {{"lr", 1.0}});
  for (int i = 0; i < 4; ++i) lam.step();
  CHECK(opt2->param_groups()[2].lr() == 1.0);
  CHECK(opt2->param_groups()[0].lr() == 0.1 * 0.0625);
}

TEST_CASE("lr_scale multiplies every written lr", "[scheduler]") {
  auto plain = make_sgd();
  auto scaled = make_sgd();
  scaled->param_groups()[1].options().set("lr_scale", 0.25);
  ExponentialLR a(*plain, 0.9);
  ExponentialLR b(*scaled, 0.9);
  // initial_lr is the unscaled base (timm convention); lr includes the scale.
  CHECK(scaled->param_groups()[1].options().get("initial_lr") == 0.01);
  for (int i = 0; i < 20; ++i) {
    a.step();
    b.step();
    CHECK(lrs(*scaled)[0] == lrs(*plain)[0]);
    CHECK_THAT(lrs(*scaled)[1], Catch::WithinRel(lrs(*plain)[1] * 0.25, 1e-14));
  }
}

TEST_CASE("WarmupLR ramps linearly to the wrapped schedule's start, then hands over",
          "[scheduler]") {
  auto opt = make_sgd();
  auto ref_opt = make_sgd();
  CosineAnnealingLR ref(*ref_opt, 30);
  WarmupLR w(std::make_unique<CosineAnnealingLR>(*opt, 30), 10, 1e-3);
  const std::vector<double> base = {0.1, 0.01};
  for (std::int64_t t = 0; t <= 40; ++t) {
    if (t > 0) w.step();
    if (t < 10) {
      // timm's warmup: init + t * (target - init) / warmup_steps.
      for (std::size_t g = 0; g < 2; ++g) {
        CHECK(lrs(*opt)[g] == 1e-3 + static_cast<double>(t) * ((base[g] - 1e-3) / 10.0));
      }
    } else {
      if (t > 10) ref.step();
      CHECK(lrs(*opt) == lrs(*ref_opt));
    }
  }
  CHECK(w.last_epoch() == 40);
}

TEST_CASE("CosineLRScheduler follows timm's documented formula", "[scheduler][timm]") {
  // timm: during warmup lr = warmup_lr_init + t * (base - warmup_lr_init) / warmup_t; after it
  // (warmup_prefix: t -= warmup_t), with cycle_mul == 1: i = t // t_initial,
  // t_curr = t - i * t_initial, and
  //   lr = lr_min + 0.5 * (base * cycle_decay^i - lr_min) * (1 + cos(pi * t_curr / t_initial))
  // while i < cycle_limit, then lr_min. With cycle_mul != 1 the cycle index is
  // i = floor(log(1 - t / t_initial * (1 - m), m)), t_i = m^i t_initial,
  // t_curr = t - (1 - m^i) / (1 - m) * t_initial.
  const double pi = std::numbers::pi;
  SECTION("restarts with decay, warmup prefix, per-iteration stepping") {
    auto opt = make_sgd();
    const CosineLROptions o{.t_initial = 50,
                            .lr_min = 1e-5,
                            .cycle_decay = 0.5,
                            .cycle_limit = 3,
                            .warmup_t = 10,
                            .warmup_lr_init = 1e-4,
                            .warmup_prefix = true,
                            .t_in_epochs = false};
    CosineLRScheduler s(*opt, o);
    CHECK(lrs(*opt) == std::vector<double>{1e-4, 1e-4});
    const double base[2] = {0.1, 0.01};
    for (std::int64_t t = 1; t <= 200; ++t) {
      s.step_update(t);
      for (std::size_t g = 0; g < 2; ++g) {
        double want;
        if (t < 10) {
          want = 1e-4 + static_cast<double>(t) * ((base[g] - 1e-4) / 10.0);
        } else {
          const std::int64_t u = t - 10;
          const std::int64_t i = u / 50;
          const double t_curr = static_cast<double>(u - 50 * i);
          want = i < 3 ? 1e-5 + 0.5 * (base[g] * std::pow(0.5, static_cast<double>(i)) - 1e-5) *
                                    (1 + std::cos(pi * t_curr / 50.0))
                       : 1e-5;
        }
        INFO("t " << t << " group " << g);
        CHECK_THAT(lrs(*opt)[g], Catch::WithinRel(want, 1e-12));
      }
    }
    CHECK(lrs(*opt)[0] == 1e-5);  // past cycle_limit
    s.step(3);                    // an epoch step does nothing when t is in updates
    CHECK(s.t() == 200);
  }
  SECTION("cycle_mul stretches the cycles") {
    auto opt = make_sgd();
    const CosineLROptions o{.t_initial = 10, .cycle_mul = 2.0, .cycle_limit = 10};
    CosineLRScheduler s(*opt, o);
    CHECK(s.get_cycle_length(3) == 10 + 20 + 40);
    // Cycle boundaries at t = 10 and 30 restart at the peak; t = 20 is mid-cycle.
    CHECK(s.lr_at(10)[0] == 0.1);
    CHECK(s.lr_at(30)[0] == 0.1);
    CHECK_THAT(s.lr_at(20)[0], Catch::WithinAbs(0.05, 1e-15));
    CHECK_THAT(s.lr_at(25)[0], Catch::WithinRel(0.05 * (1 + std::cos(pi * 15.0 / 20.0)), 1e-12));
    for (int t = 1; t <= 50; ++t) s.step();
    CHECK(lrs(*opt) == s.lr_at(50));
  }
  SECTION("warmup without prefix runs under the cosine") {
    auto opt = make_sgd();
    CosineLRScheduler s(*opt, {.t_initial = 20, .warmup_t = 5});
    CHECK_THAT(s.lr_at(5)[0], Catch::WithinRel(0.05 * (1 + std::cos(pi * 5.0 / 20.0)), 1e-12));
  }
}

TEST_CASE("bad input throws naming the parameter and value", "[scheduler][errors]") {
  auto opt = make_sgd();
  CHECK_THROWS_WITH(StepLR(*opt, -1), Contains("step_size") && Contains("-1"));
  CHECK_THROWS_WITH(MultiStepLR(*opt, {10, 5}), Contains("milestones[1]") && Contains("5"));
  CHECK_THROWS_WITH(CosineAnnealingLR(*opt, 0), Contains("T_max") && Contains("0"));
  CHECK_THROWS_WITH(CosineAnnealingWarmRestarts(*opt, 0), Contains("T_0"));
  CHECK_THROWS_WITH(CosineAnnealingWarmRestarts(*opt, 5, 0), Contains("T_mult"));
  CHECK_THROWS_WITH(ConstantLR(*opt, 1.5), Contains("factor") && Contains("1.5"));
  CHECK_THROWS_WITH(LinearLR(*opt, 0.0), Contains("start_factor"));
  CHECK_THROWS_WITH(LinearLR(*opt, 0.5, 2.0), Contains("end_factor") && Contains("2"));
  CHECK_THROWS_WITH(PolynomialLR(*opt, 0), Contains("total_iters"));
  CHECK_THROWS_WITH(SWALR(*opt, {0.1}, -1), Contains("anneal_epochs") && Contains("-1"));
  CHECK_THROWS_WITH(SWALR(*opt, {0.1}, 10, "cosine"),
                    Contains("anneal_strategy") && Contains("cosine"));
  CHECK_THROWS_WITH(SWALR(*opt, {0.1, 0.2, 0.3}), Contains("swa_lr") && Contains("3"));
  CHECK_THROWS_WITH(LambdaLR(*opt, std::vector<EpochFunction>{[](std::int64_t) { return 1.0; }}),
                    Contains("lr_lambdas"));
  {
    CyclicLROptions c;
    c.base_lr = {1e-3};
    c.max_lr = {0.1};
    c.mode = "triangle";
    CHECK_THROWS_WITH(CyclicLR(*opt, c), Contains("mode") && Contains("triangle"));
    c.mode = "triangular";
    c.max_lr = {0.1, 0.2, 0.3};
    CHECK_THROWS_WITH(CyclicLR(*opt, c), Contains("max_lr") && Contains("3"));
    c.max_lr = {0.1};
    c.step_size_up = 0;
    CHECK_THROWS_WITH(CyclicLR(*opt, c), Contains("step_size_up"));
  }
  {
    OneCycleLROptions o;
    o.max_lr = {0.1};
    CHECK_THROWS_WITH(OneCycleLR(*opt, o), Contains("total_steps"));
    o.total_steps = 0;
    CHECK_THROWS_WITH(OneCycleLR(*opt, o), Contains("total_steps") && Contains("0"));
    o.total_steps = 10;
    o.pct_start = 1.5;
    CHECK_THROWS_WITH(OneCycleLR(*opt, o), Contains("pct_start") && Contains("1.5"));
    o.pct_start = 0.1;  // pct_start * total_steps == 1: a zero-length first phase
    CHECK_THROWS_WITH(OneCycleLR(*opt, o), Contains("total_steps 10 is too small"));
    o.pct_start = 0.3;
    o.anneal_strategy = "cosine";
    CHECK_THROWS_WITH(OneCycleLR(*opt, o), Contains("anneal_strategy") && Contains("cosine"));
    o.anneal_strategy = "cos";
    OneCycleLR s(*opt, o);
    for (int i = 0; i < 10; ++i) s.step();
    CHECK_THROWS_AS(s.step(), std::out_of_range);
    CHECK_THROWS_WITH(s.step(), Contains("12") && Contains("total_steps is 10"));
    CHECK(s.last_epoch() == 10);  // nothing changed
  }
  {
    ReduceLROnPlateau r(*opt);
    CHECK_THROWS_WITH(r.step(std::numeric_limits<double>::quiet_NaN()), Contains("metric"));
    CHECK_THROWS_WITH(ReduceLROnPlateau(*opt, {.mode = "minimum"}), Contains("minimum"));
    CHECK_THROWS_WITH(ReduceLROnPlateau(*opt, {.factor = 1.0}), Contains("factor"));
    CHECK_THROWS_WITH(ReduceLROnPlateau(*opt, {.threshold_mode = "relative"}),
                      Contains("threshold_mode"));
    CHECK_THROWS_WITH(ReduceLROnPlateau(*opt, {.min_lr = {1, 2, 3}}), Contains("min_lr"));
  }
  {
    CosineAnnealingWarmRestarts w(*opt, 5);
    CHECK_THROWS_WITH(w.step_to(-1.0), Contains("epoch") && Contains("-1"));
    CHECK_THROWS_WITH(CosineLRScheduler(*opt, {.t_initial = 0}), Contains("t_initial"));
    CHECK_THROWS_WITH(WarmupLR(nullptr, 5), Contains("after"));
  }
  {
    auto other = make_sgd();
    std::vector<std::unique_ptr<LRScheduler>> v;
    v.push_back(std::make_unique<StepLR>(*opt, 3));
    v.push_back(std::make_unique<StepLR>(*other, 3));
    CHECK_THROWS_WITH(SequentialLR(*opt, std::move(v), {2}), Contains("same optimizer"));
    std::vector<std::unique_ptr<LRScheduler>> w;
    w.push_back(std::make_unique<StepLR>(*opt, 3));
    CHECK_THROWS_WITH(SequentialLR(*opt, std::move(w), {2}), Contains("milestones"));
  }
  {
    // Resuming (last_epoch != -1) needs initial_lr in every group.
    auto fresh = make_sgd();
    CHECK_THROWS_WITH(StepLR(*fresh, 3, 0.1, 5), Contains("initial_lr"));
  }
  {
    // CyclicLR / OneCycleLR momentum cycling drives Adam's beta1 (torch 2.x behaviour).
    auto adam = make_adam();
    OneCycleLROptions o;
    o.max_lr = {0.01};
    o.total_steps = 20;
    OneCycleLR s(*adam, o);
    CHECK(momenta(*adam)[0] == 0.95);
  }
}
