// Every kernel build against the scalar reference, bit for bit, through the whole optimizer
// path (arenas, segments, chunking, threads) and directly on special values.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "kernel_checks.hpp"
#include "kernels/adam_kernel.hpp"
#include "kernels/sgd_kernel.hpp"
#include "simdoptim/simdoptim.hpp"
#include "thread_counts.hpp"

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

TEST_CASE("the instruction sets under test are listed and include every expected one",
          "[kernels][isa]") {
  std::string names;
  for (Isa isa : supported_isas()) names += std::string(names.empty() ? "" : " ") + isa_name(isa);
  std::string threads;
  for (int n : thread_counts::up_to_cap({1, 2, 4}))
    threads += std::string(threads.empty() ? "" : " ") + std::to_string(n);
  std::cout << "instruction sets under test: " << names << "; thread counts: " << threads << "\n";
  // SIMDOPTIM_EXPECT_ISAS (comma-separated names) lists the sets that must be under test, so a
  // run that is meant to test NEON (tools/run_aarch64_tests.sh) fails when NEON is missing
  // instead of passing on scalar alone.
  const char* expected = std::getenv("SIMDOPTIM_EXPECT_ISAS");
  std::string list = expected != nullptr ? expected : "";
  for (std::size_t pos = 0; pos < list.size();) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string name = list.substr(pos, comma - pos);
    INFO("SIMDOPTIM_EXPECT_ISAS names " << name);
    CHECK(isa_supported(parse_isa(name)));
    pos = comma + 1;
  }
}

TEST_CASE("every build equals the scalar reference bit for bit, at 1, 2 and 4 threads",
          "[kernels]") {
  for (const Case& c : cases()) {
    const auto reference = trajectory(c, {Isa::scalar, 1});
    for (Isa isa : supported_isas()) {
      for (int threads : thread_counts::up_to_cap({1, 2, 4})) {
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
    auto opt = c.make({best_isa(), thread_counts::capped(2)});
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
  constexpr std::size_t n = 256;
  auto fill = [&](std::vector<float>& v, unsigned seed) {
    std::mt19937 rng(seed);
    v.resize(n);
    for (float& x : v) x = specials[rng() % std::size(specials)];
  };
  struct Arrays {
    std::vector<float> p, g, m, v, vmax;
  };
  auto make = [&]() {
    Arrays a;
    fill(a.p, 1);
    fill(a.g, 2);
    fill(a.m, 3);
    fill(a.v, 4);
    fill(a.vmax, 5);
    for (float& x : a.v) x = std::fabs(x);
    for (float& x : a.vmax) x = std::fabs(x);
    return a;
  };
  auto bits = [](const Arrays& a) {
    std::vector<float> all;
    for (const auto* v : {&a.p, &a.m, &a.v, &a.vmax}) all.insert(all.end(), v->begin(), v->end());
    return all;
  };
  // Vectors from operator new are 16-byte aligned at least; kernels need 64: copy into an arena.
  auto run_adam = [&](Isa isa, bool maximize, float wd, float decay, bool amsgrad) {
    Arrays a = make();
    alignas(64) static float buf[5][n];
    std::memcpy(buf[0], a.p.data(), n * 4);
    std::memcpy(buf[1], a.g.data(), n * 4);
    std::memcpy(buf[2], a.m.data(), n * 4);
    std::memcpy(buf[3], a.v.data(), n * 4);
    std::memcpy(buf[4], a.vmax.data(), n * 4);
    detail::AdamArgs args{buf[0], buf[1], buf[2], buf[3], amsgrad ? buf[4] : nullptr,
                          0.9f,   0.1f,   0.999f, 0.001f, -1e-3f,
                          1.2f,   1e-8f,  wd,     decay,  maximize};
    detail::adam_kernel(isa)(args, 0, n);
    std::memcpy(a.p.data(), buf[0], n * 4);
    std::memcpy(a.m.data(), buf[2], n * 4);
    std::memcpy(a.v.data(), buf[3], n * 4);
    std::memcpy(a.vmax.data(), buf[4], n * 4);
    return bits(a);
  };
  auto run_sgd = [&](Isa isa, bool maximize, float wd, bool momentum, bool first, bool nesterov) {
    Arrays a = make();
    alignas(64) static float buf[3][n];
    std::memcpy(buf[0], a.p.data(), n * 4);
    std::memcpy(buf[1], a.g.data(), n * 4);
    std::memcpy(buf[2], a.m.data(), n * 4);
    detail::SgdArgs args{
        buf[0],   buf[1], momentum ? buf[2] : nullptr, -0.1f, 0.9f, 0.9f, wd, maximize,
        nesterov, first};
    detail::sgd_kernel(isa)(args, 0, n);
    std::memcpy(a.p.data(), buf[0], n * 4);
    std::memcpy(a.m.data(), buf[2], n * 4);
    return bits(a);
  };
  for (Isa isa : supported_isas()) {
    INFO("isa=" << isa_name(isa));
    for (bool maximize : {false, true})
      for (float wd : {0.0f, 0.01f}) {
        for (float decay : {1.0f, 0.999f})
          for (bool amsgrad : {false, true}) {
            const auto ref = run_adam(Isa::scalar, maximize, wd, decay, amsgrad);
            CHECK(same_bits_or_both_nan(run_adam(isa, maximize, wd, decay, amsgrad), ref));
          }
        for (bool momentum : {false, true})
          for (bool first : {false, true})
            for (bool nesterov : {false, true}) {
              const auto ref = run_sgd(Isa::scalar, maximize, wd, momentum, first, nesterov);
              CHECK(same_bits_or_both_nan(run_sgd(isa, maximize, wd, momentum, first, nesterov),
                                          ref));
            }
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
