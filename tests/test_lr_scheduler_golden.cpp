// Every scheduler against torch 1.13's sequences (tests/data/schedulers, written by
// tools/gen_golden_schedulers.py). Each case here builds the scheduler of the file with the same
// name. Tolerance: relative 1e-12; every operation mirrors torch's Python in double, so the
// sequences in fact match bit for bit (observed with g++ 12 / glibc 2.36).
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

#include "simdoptim/lr_scheduler.hpp"
#include "test_lr_scheduler_util.hpp"

using namespace simdoptim;
using namespace sched_test;

namespace {

using Factory = std::function<std::unique_ptr<Scheduler>(Optimizer&)>;
using Stepper = std::function<void(Scheduler&, std::int64_t)>;

struct Case {
  std::string name;
  bool adam;
  Factory make;
  bool momentum = false;
  Stepper step = nullptr;
};

template <typename T, typename... Args>
std::unique_ptr<LRScheduler> lr(Args&&... args) {
  return std::make_unique<T>(std::forward<Args>(args)...);
}

std::vector<std::unique_ptr<LRScheduler>> list(std::unique_ptr<LRScheduler> a,
                                               std::unique_ptr<LRScheduler> b,
                                               std::unique_ptr<LRScheduler> c = nullptr) {
  std::vector<std::unique_ptr<LRScheduler>> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  if (c) v.push_back(std::move(c));
  return v;
}

std::vector<std::unique_ptr<Scheduler>> as_base(std::vector<std::unique_ptr<LRScheduler>> v) {
  std::vector<std::unique_ptr<Scheduler>> out;
  for (auto& s : v) out.push_back(std::move(s));
  return out;
}

CyclicLROptions cyclic(std::vector<double> base, std::vector<double> max, double up) {
  CyclicLROptions o;
  o.base_lr = std::move(base);
  o.max_lr = std::move(max);
  o.step_size_up = up;
  return o;
}

std::vector<Case> cases() {
  constexpr double kPi = std::numbers::pi;
  std::vector<Case> c;
  c.push_back({"lambda_a", false, [](Optimizer& o) {
                 return lr<LambdaLR>(
                     o, [](std::int64_t e) { return std::pow(0.95, static_cast<double>(e)); });
               }});
  c.push_back(
      {"lambda_b", true, [](Optimizer& o) {
         return lr<LambdaLR>(
             o, std::vector<EpochFunction>{
                    [](std::int64_t e) { return 1.0 / static_cast<double>(1 + e); },
                    [](std::int64_t e) { return std::pow(0.5, static_cast<double>(e / 10)); }});
       }});
  c.push_back({"multiplicative_a", false, [](Optimizer& o) {
                 return lr<MultiplicativeLR>(o, [](std::int64_t) { return 0.95; });
               }});
  c.push_back(
      {"multiplicative_b", true, [](Optimizer& o) {
         return lr<MultiplicativeLR>(
             o, std::vector<EpochFunction>{[](std::int64_t) { return 0.99; },
                                           [](std::int64_t e) { return e % 10 == 0 ? 0.9 : 1.0; }});
       }});
  c.push_back({"steplr_a", false, [](Optimizer& o) { return lr<StepLR>(o, 30, 0.1); }});
  c.push_back({"steplr_b", true, [](Optimizer& o) { return lr<StepLR>(o, 7, 0.5); }});
  c.push_back({"multisteplr_a", false, [](Optimizer& o) {
                 return lr<MultiStepLR>(o, std::vector<std::int64_t>{30, 80, 150}, 0.1);
               }});
  c.push_back({"multisteplr_b", true, [](Optimizer& o) {
                 return lr<MultiStepLR>(o, std::vector<std::int64_t>{1, 2, 50, 299}, 0.7);
               }});
  c.push_back({"constantlr_a", false, [](Optimizer& o) { return lr<ConstantLR>(o); }});
  c.push_back({"constantlr_b", true, [](Optimizer& o) { return lr<ConstantLR>(o, 0.5, 100); }});
  c.push_back({"linearlr_a", false, [](Optimizer& o) { return lr<LinearLR>(o); }});
  c.push_back({"linearlr_b", true, [](Optimizer& o) { return lr<LinearLR>(o, 1.0, 0.1, 200); }});
  c.push_back({"exponentiallr_a", false, [](Optimizer& o) { return lr<ExponentialLR>(o, 0.99); }});
  c.push_back({"exponentiallr_b", true, [](Optimizer& o) { return lr<ExponentialLR>(o, 0.9); }});
  c.push_back(
      {"polynomiallr_a", false, [](Optimizer& o) { return lr<PolynomialLR>(o, 100, 1.0); }});
  c.push_back({"polynomiallr_b", true, [](Optimizer& o) { return lr<PolynomialLR>(o, 250, 2.5); }});
  c.push_back({"cosine_a", false, [](Optimizer& o) { return lr<CosineAnnealingLR>(o, 50); }});
  c.push_back({"cosine_b", true, [](Optimizer& o) { return lr<CosineAnnealingLR>(o, 77, 1e-4); }});
  c.push_back({"cosine_epoch", false,
               [](Optimizer& o) { return lr<CosineAnnealingLR>(o, 40, 1e-5); }, false,
               [](Scheduler& s, std::int64_t k) { dynamic_cast<LRScheduler&>(s).step(k); }});
  c.push_back(
      {"cawr_a", false, [](Optimizer& o) { return lr<CosineAnnealingWarmRestarts>(o, 10); }});
  c.push_back({"cawr_b", true,
               [](Optimizer& o) { return lr<CosineAnnealingWarmRestarts>(o, 5, 2, 1e-5); }});
  c.push_back({"cawr_frac", false,
               [](Optimizer& o) { return lr<CosineAnnealingWarmRestarts>(o, 10, 2); }, false,
               [](Scheduler& s, std::int64_t k) {
                 dynamic_cast<CosineAnnealingWarmRestarts&>(s).step_to(static_cast<double>(k) *
                                                                       0.37);
               }});
  c.push_back({"cawr_frac1", false,
               [](Optimizer& o) { return lr<CosineAnnealingWarmRestarts>(o, 7, 1, 1e-3); }, false,
               [](Scheduler& s, std::int64_t k) {
                 dynamic_cast<CosineAnnealingWarmRestarts&>(s).step_to(static_cast<double>(k) / 8);
               }});
  c.push_back({"cyclic_a", false,
               [](Optimizer& o) {
                 return lr<CyclicLR>(o, cyclic({1e-3, 5e-4}, {0.1, 0.05}, 20));
               },
               true});
  c.push_back({"cyclic_b", false,
               [](Optimizer& o) {
                 CyclicLROptions opt = cyclic({1e-3}, {0.1}, 15);
                 opt.step_size_down = 25;
                 opt.mode = "triangular2";
                 opt.base_momentum = {0.85};
                 opt.max_momentum = {0.95};
                 return lr<CyclicLR>(o, opt);
               },
               true});
  c.push_back({"cyclic_c", false,
               [](Optimizer& o) {
                 CyclicLROptions opt = cyclic({1e-3}, {0.1, 0.02}, 10);
                 opt.mode = "exp_range";
                 opt.gamma = 0.99;
                 return lr<CyclicLR>(o, opt);
               },
               true});
  c.push_back({"cyclic_d", false,
               [kPi](Optimizer& o) {
                 CyclicLROptions opt = cyclic({1e-3}, {0.1}, 12);
                 opt.scale_fn = [kPi](double x) { return 0.5 * (1 + std::sin(x * kPi / 2)); };
                 opt.scale_mode = "cycle";
                 return lr<CyclicLR>(o, opt);
               },
               true});
  c.push_back({"cyclic_e", false, [](Optimizer& o) {
                 CyclicLROptions opt = cyclic({1e-3}, {0.1}, 9);
                 opt.step_size_down = 3;
                 opt.scale_fn = [](double x) { return 1 / (1 + 0.01 * x); };
                 opt.scale_mode = "iterations";
                 opt.cycle_momentum = false;
                 return lr<CyclicLR>(o, opt);
               }});
  c.push_back({"onecycle_a", false,
               [](Optimizer& o) {
                 OneCycleLROptions opt;
                 opt.max_lr = {0.1, 0.05};
                 opt.total_steps = 300;
                 return lr<OneCycleLR>(o, opt);
               },
               true});
  c.push_back({"onecycle_b", true,
               [](Optimizer& o) {
                 OneCycleLROptions opt;
                 opt.max_lr = {1e-2};
                 opt.epochs = 30;
                 opt.steps_per_epoch = 10;
                 opt.anneal_strategy = "linear";
                 opt.three_phase = true;
                 return lr<OneCycleLR>(o, opt);
               },
               true});
  c.push_back({"onecycle_c", false,
               [](Optimizer& o) {
                 OneCycleLROptions opt;
                 opt.max_lr = {0.2, 0.1};
                 opt.total_steps = 300;
                 opt.pct_start = 0.25;
                 opt.div_factor = 10.0;
                 opt.final_div_factor = 100.0;
                 opt.cycle_momentum = false;
                 return lr<OneCycleLR>(o, opt);
               },
               true});
  c.push_back({"swalr_a", false, [](Optimizer& o) { return lr<SWALR>(o, std::vector{0.05}); }});
  c.push_back({"swalr_b", true, [](Optimizer& o) {
                 return lr<SWALR>(o, std::vector{2e-3, 1e-4}, 37, "linear");
               }});
  c.push_back({"swalr_c", false, [](Optimizer& o) { return lr<SWALR>(o, std::vector{0.02}, 0); }});
  c.push_back({"swalr_d", false, [](Optimizer& o) {
                 return std::make_unique<SequentialLR>(
                     o, list(lr<CosineAnnealingLR>(o, 100), lr<SWALR>(o, std::vector{0.01}, 20)),
                     std::vector<std::int64_t>{100});
               }});
  c.push_back({"sequential_a", false, [](Optimizer& o) {
                 return std::make_unique<SequentialLR>(
                     o, list(lr<LinearLR>(o, 0.1, 1.0, 10), lr<ExponentialLR>(o, 0.97)),
                     std::vector<std::int64_t>{10});
               }});
  c.push_back({"sequential_b", true, [](Optimizer& o) {
                 return std::make_unique<SequentialLR>(
                     o,
                     list(lr<ConstantLR>(o, 0.5, 20), lr<CosineAnnealingLR>(o, 100),
                          lr<StepLR>(o, 30, 0.5)),
                     std::vector<std::int64_t>{20, 150});
               }});
  c.push_back({"sequential_c", false, [](Optimizer& o) {
                 return std::make_unique<SequentialLR>(
                     o,
                     list(lr<ExponentialLR>(o, 0.9),
                          lr<MultiplicativeLR>(o, [](std::int64_t) { return 0.98; })),
                     std::vector<std::int64_t>{50});
               }});
  c.push_back({"chained_a", false, [](Optimizer& o) {
                 return std::make_unique<ChainedScheduler>(
                     as_base(list(lr<ConstantLR>(o, 0.1, 20), lr<ExponentialLR>(o, 0.99))));
               }});
  c.push_back({"chained_b", true, [](Optimizer& o) {
                 return std::make_unique<ChainedScheduler>(
                     as_base(list(lr<StepLR>(o, 40, 0.5),
                                  lr<MultiplicativeLR>(o, [](std::int64_t) { return 0.995; }),
                                  lr<LinearLR>(o, 0.2, 1.0, 25))));
               }});
  return c;
}

void check_row(const std::string& name, std::size_t row, const std::vector<double>& got,
               const Golden& golden, const char* c0, const char* c1) {
  const double want[2] = {golden.at(c0)[row], golden.at(c1)[row]};
  REQUIRE(got.size() == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    INFO(name << " row " << row << " column " << (i == 0 ? c0 : c1));
    CHECK(close(got[i], want[i]));
  }
}

}  // namespace

TEST_CASE("every scheduler reproduces torch 1.13's lr (and momentum) sequence", "[scheduler]") {
  for (const Case& c : cases()) {
    SECTION(c.name) {
      const Golden golden = load_golden(c.name);
      REQUIRE(golden.rows == 301);
      auto opt = c.adam ? make_adam() : make_sgd();
      auto sched = c.make(*opt);
      for (std::size_t k = 0; k < golden.rows; ++k) {
        if (k > 0) {
          if (c.step) {
            c.step(*sched, static_cast<std::int64_t>(k));
          } else {
            sched->step();
          }
        }
        check_row(c.name, k, lrs(*opt), golden, "lr0", "lr1");
        CHECK(sched->get_last_lr() == lrs(*opt));
        if (c.momentum) check_row(c.name, k, momenta(*opt), golden, "m0", "m1");
      }
    }
  }
}

TEST_CASE("ReduceLROnPlateau reproduces torch on recorded metrics with plateaus", "[scheduler]") {
  SECTION("min, rel, patience 5") {
    const Golden golden = load_golden("plateau_a");
    auto opt = make_sgd();
    ReduceLROnPlateau sched(*opt, {.factor = 0.5, .patience = 5});
    for (std::size_t k = 1; k < golden.rows; ++k) {
      sched.step(golden.at("metric")[k]);
      check_row("plateau_a", k, lrs(*opt), golden, "lr0", "lr1");
      CHECK(sched.get_last_lr() == lrs(*opt));
    }
  }
  SECTION("max, abs, cooldown, per-group min_lr") {
    const Golden golden = load_golden("plateau_b");
    auto opt = make_adam();
    ReduceLROnPlateau sched(*opt, {.mode = "max",
                                   .factor = 0.3,
                                   .patience = 2,
                                   .threshold = 0.01,
                                   .threshold_mode = "abs",
                                   .cooldown = 3,
                                   .min_lr = {1e-4, 1e-5}});
    for (std::size_t k = 1; k < golden.rows; ++k) {
      sched.step(golden.at("metric")[k]);
      check_row("plateau_b", k, lrs(*opt), golden, "lr0", "lr1");
    }
  }
}
