// Every kernel build against the scalar reference, bit for bit, through the whole optimizer
// path (arenas, segments, chunking, threads) and on special values.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernel_checks.hpp"
#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;
using kernel_checks::bitwise_equal;
using kernel_checks::same_bits_or_both_nan;

namespace {

// The sizes that break things: empty, one element, around the widest batch, a prime, a large prime.
const std::vector<std::int64_t> kSizes = {0, 1, 15, 16, 17, 1009, 100003};

using Factory = std::function<std::unique_ptr<Optimizer>(RuntimeOptions)>;

struct Case {
  std::string label;
  Factory make;
  GroupOptions second_group;  // overrides of the second group
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (bool nesterov : {false, true})
    for (double wd : {0.0, 1e-2})
      for (bool maximize : {false, true}) {
        SGDOptions o{.lr = 0.05,
                     .momentum = 0.9,
                     .dampening = 0.0,
                     .weight_decay = wd,
                     .nesterov = nesterov,
                     .maximize = maximize};
        out.push_back({"sgd nesterov=" + std::to_string(nesterov) + " wd=" + std::to_string(wd) +
                           " max=" + std::to_string(maximize),
                       [o](RuntimeOptions r) { return std::make_unique<SGD>(o, r); },
                       {{"lr", 0.01}, {"dampening", nesterov ? 0.0 : 0.1}}});
      }
  out.push_back({"sgd plain",
                 [](RuntimeOptions r) { return std::make_unique<SGD>(SGDOptions{.lr = 0.1}, r); },
                 {{"weight_decay", 0.1}}});
  for (bool decoupled : {false, true})
    for (bool amsgrad : {false, true})
      for (double wd : {0.0, 1e-2})
        for (bool maximize : {false, true}) {
          AdamOptions o{.lr = 1e-2, .weight_decay = wd, .amsgrad = amsgrad, .maximize = maximize};
          Factory make = [o, decoupled](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
            if (decoupled) return std::make_unique<AdamW>(o, r);
            return std::make_unique<Adam>(o, r);
          };
          out.push_back({std::string(decoupled ? "adamw" : "adam") +
                             " amsgrad=" + std::to_string(amsgrad) + " wd=" + std::to_string(wd) +
                             " max=" + std::to_string(maximize),
                         make,
                         {{"lr", 3e-3}, {"beta1", 0.8}, {"weight_decay", 0.1}}});
        }
  return out;
}

std::vector<ParamSpec> specs(const std::string& prefix, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::vector<ParamSpec> out;
  for (std::size_t i = 0; i < kSizes.size(); ++i) {
    ParamSpec s{prefix + std::to_string(i), {kSizes[i]}, {}};
    s.init.resize(static_cast<std::size_t>(kSizes[i]));
    for (float& x : s.init) x = normal(rng);
    out.push_back(std::move(s));
  }
  return out;
}

// Runs `steps` steps on two groups; tensor 3 of group 0 has no gradient on every third step, so
// segments split and step counts diverge. Returns every param and state value, flattened.
std::vector<float> trajectory(const Case& c, RuntimeOptions runtime, int steps = 6) {
  std::mt19937 rng(42);
  auto opt = c.make(runtime);
  opt->add_param_group(specs("a", rng));
  opt->add_param_group(specs("b", rng), c.second_group);
  std::normal_distribution<float> normal;
  for (int s = 0; s < steps; ++s) {
    opt->zero_grad();
    for (auto& g : opt->param_groups())
      for (std::size_t i = 0; i < g.size(); ++i) {
        if (&g == &opt->param_groups().front() && i == 3 && s % 3 == 1) continue;
        for (float& x : g.grad(i).data) x = normal(rng);
      }
    opt->step();
  }
  std::vector<float> out;
  for (auto& g : opt->param_groups()) {
    for (float x : g.param_arena()) out.push_back(x);
    for (const auto& name : g.state_names()) {
      const float* st = g.state_arena(name);
      out.insert(out.end(), st, st + g.padded_numel());
    }
    for (std::size_t i = 0; i < g.size(); ++i) out.push_back(static_cast<float>(g.step_count(i)));
  }
  return out;
}

}  // namespace

TEST_CASE("every build equals the scalar reference bit for bit, at 1, 2 and 4 threads",
          "[kernels]") {
  for (const Case& c : cases()) {
    const auto reference = trajectory(c, {Isa::scalar, 1});
    for (Isa isa : supported_isas()) {
      for (int threads : {1, 2, 4}) {
        INFO(c.label << " isa=" << isa_name(isa) << " threads=" << threads);
        CHECK(bitwise_equal(trajectory(c, {isa, threads}), reference));
      }
    }
  }
}

TEST_CASE("the trajectories actually move and the padding stays zero", "[kernels]") {
  for (const Case& c : cases()) {
    INFO(c.label);
    std::mt19937 rng(42);
    auto opt = c.make({best_isa(), 2});
    auto& g = opt->add_param_group(specs("a", rng));
    const std::vector<float> before(g.param_arena().begin(), g.param_arena().end());
    for (std::size_t i = 0; i < g.size(); ++i)
      for (float& x : g.grad(i).data) x = 0.5f;
    opt->step();
    opt->step();
    CHECK(kernel_checks::moved_with_zero_padding(g, before) == 1 + 15 + 16 + 17 + 1009 + 100003);
  }
}

TEST_CASE("kernels agree bit for bit on special values: NaN, Inf, zeros, subnormals", "[kernels]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {0.0f,    -0.0f, 1.0f,   -1.0f,  inf,  -inf, nan,   1e-40f,
                            -1e-40f, 3e38f, -3e38f, 1e-20f, 0.5f, 7.0f, -2.5f, 1e10f};
  constexpr std::int64_t n = 256;
  // Parameters, gradients and, after the first step, every state array drawn from the specials
  // (second moments non-negative), then three more steps: each term meets every special.
  auto run = [&](const Case& c, Isa isa) {
    std::mt19937 rng(7);
    auto pick = [&] { return specials[rng() % std::size(specials)]; };
    ParamSpec spec{"w", {n}, std::vector<float>(n)};
    for (float& x : spec.init) x = pick();
    auto opt = c.make({isa, 1});
    auto& g = opt->add_param_group({spec});
    for (int step = 0; step < 4; ++step) {
      for (float& x : g.grad(0).data) x = pick();
      opt->step();
      if (step > 0) continue;
      for (const auto& name : g.state_names()) {
        const bool square = name == "exp_avg_sq" || name == "max_exp_avg_sq";
        for (float& x : g.state(0, name).data) x = square ? std::fabs(pick()) : pick();
      }
    }
    std::vector<float> out(g.param_arena().begin(), g.param_arena().end());
    for (const auto& name : g.state_names())
      out.insert(out.end(), g.state_arena(name), g.state_arena(name) + g.padded_numel());
    return out;
  };
  for (const Case& c : cases()) {
    const auto reference = run(c, Isa::scalar);
    for (Isa isa : supported_isas()) {
      INFO(c.label << " isa=" << isa_name(isa));
      CHECK(same_bits_or_both_nan(run(c, isa), reference));
    }
  }
}

TEST_CASE("amsgrad's running maximum propagates NaN as torch.maximum does", "[kernels]") {
  for (Isa isa : supported_isas()) {
    INFO("isa=" << isa_name(isa));
    Adam opt(AdamOptions{.amsgrad = true}, RuntimeOptions{isa, 1});
    auto& g = opt.add_param_group({{"w", {32}, std::vector<float>(32, 1.0f)}});
    auto grad = g.grad(0).data;
    std::fill(grad.begin(), grad.end(), 1.0f);
    grad[3] = std::numeric_limits<float>::quiet_NaN();
    opt.step();
    grad = g.grad(0).data;
    std::fill(grad.begin(), grad.end(), 1.0f);
    opt.step();
    // The NaN stays in the maximum (and so in the parameter), never replaced by a finite value.
    CHECK(std::isnan(g.state(0, "max_exp_avg_sq").data[3]));
    CHECK(std::isnan(g.param(0).data[3]));
    CHECK(std::isfinite(g.param(0).data[2]));
  }
}
