// RMSprop, Adagrad, NAdam, RAdam, Adamax, Adadelta, Rprop and ASGD: every kernel build against
// the scalar reference, bit for bit, through the whole optimizer path (arenas, segments,
// chunking, threads) and on special values (NaN, Inf, zeros, subnormals, huge values).
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
#include "thread_counts.hpp"

using namespace simdoptim;
using kernel_checks::bitwise_equal;
using kernel_checks::same_bits_or_both_nan;

namespace {

// Empty, one element, around the widest batch, a prime, a large prime.
const std::vector<std::int64_t> kSizes = {0, 1, 15, 16, 17, 1009, 100003};

using Factory = std::function<std::unique_ptr<Optimizer>(RuntimeOptions)>;

struct KernelCase {
  std::string label;
  Factory make;
  GroupOptions second_group;  // overrides of the second group
};

template <class Opt, class Options>
KernelCase kernel_case(std::string label, Options options, GroupOptions second_group) {
  return {std::move(label),
          [options](RuntimeOptions r) { return std::make_unique<Opt>(options, r); },
          std::move(second_group)};
}

std::string flags(std::initializer_list<std::pair<const char*, double>> items) {
  std::string s;
  for (const auto& [k, v] : items) s += std::string(" ") + k + "=" + std::to_string(v);
  return s;
}

// Every flag of every optimizer, each on and off; the second group changes the numbers.
std::vector<KernelCase> kernel_cases() {
  std::vector<KernelCase> out;
  for (double momentum : {0.0, 0.9})
    for (bool centered : {false, true})
      for (double wd : {0.0, 1e-2})
        for (bool mx : {false, true})
          out.push_back(kernel_case<RMSprop>(
              "rmsprop" +
                  flags({{"momentum", momentum}, {"centered", centered}, {"wd", wd}, {"max", mx}}),
              RMSpropOptions{
                  .momentum = momentum, .centered = centered, .weight_decay = wd, .maximize = mx},
              {{"lr", 3e-3}, {"alpha", 0.9}, {"momentum", momentum / 2}}));
  for (double init : {0.0, 0.1})
    for (double wd : {0.0, 1e-2})
      for (bool mx : {false, true})
        out.push_back(kernel_case<Adagrad>(
            "adagrad" + flags({{"init", init}, {"wd", wd}, {"max", mx}}),
            AdagradOptions{.weight_decay = wd, .initial_accumulator_value = init, .maximize = mx},
            {{"lr_decay", 0.01}, {"eps", 1e-6}}));
  for (double wd : {0.0, 1e-2})
    for (bool decoupled : {false, true}) {
      out.push_back(
          kernel_case<NAdam>("nadam" + flags({{"wd", wd}, {"decoupled", decoupled}}),
                             NAdamOptions{.weight_decay = wd, .decoupled_weight_decay = decoupled},
                             {{"momentum_decay", 0.03}, {"beta1", 0.8}, {"weight_decay", 0.1}}));
      // beta2 = 0.9 in the second group: rho_t crosses 5 at another step than in the first.
      out.push_back(
          kernel_case<RAdam>("radam" + flags({{"wd", wd}, {"decoupled", decoupled}}),
                             RAdamOptions{.weight_decay = wd, .decoupled_weight_decay = decoupled},
                             {{"beta2", 0.9}, {"lr", 1e-2}}));
    }
  for (double wd : {0.0, 1e-2})
    for (bool mx : {false, true}) {
      out.push_back(kernel_case<Adamax>("adamax" + flags({{"wd", wd}, {"max", mx}}),
                                        AdamaxOptions{.weight_decay = wd, .maximize = mx},
                                        {{"beta2", 0.9}, {"eps", 1e-3}}));
      out.push_back(kernel_case<Adadelta>("adadelta" + flags({{"wd", wd}, {"max", mx}}),
                                          AdadeltaOptions{.weight_decay = wd, .maximize = mx},
                                          {{"rho", 0.5}, {"lr", 0.5}}));
      out.push_back(kernel_case<ASGD>("asgd" + flags({{"wd", wd}, {"max", mx}}),
                                      ASGDOptions{.weight_decay = wd, .maximize = mx},
                                      {{"t0", 2.0}, {"lambd", 1e-2}}));
    }
  for (bool mx : {false, true})
    for (double lo : {1e-6, 5e-3})
      out.push_back(kernel_case<Rprop>("rprop" + flags({{"max", mx}, {"min", lo}}),
                                       RpropOptions{.step_size_min = lo, .maximize = mx},
                                       {{"step_size_max", 3e-2}, {"etaplus", 1.5}}));
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

// Every parameter, state value and step count of every group, flattened.
std::vector<float> snapshot(Optimizer& opt) {
  std::vector<float> out;
  for (auto& g : opt.param_groups()) {
    for (float x : g.param_arena()) out.push_back(x);
    for (const auto& name : g.state_names()) {
      const float* st = g.state_arena(name);
      out.insert(out.end(), st, st + g.padded_numel());
    }
    for (std::size_t i = 0; i < g.size(); ++i) out.push_back(static_cast<float>(g.step_count(i)));
  }
  return out;
}

// `steps` steps on two groups; tensor 3 of group 0 has no gradient on every third step, so
// segments split and step counts diverge.
std::vector<float> trajectory(const KernelCase& c, RuntimeOptions runtime, int steps = 8) {
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
  return snapshot(*opt);
}

}  // namespace

TEST_CASE("every build equals the scalar reference bit for bit at 1, 2 and 4 threads",
          "[kernels]") {
  for (const KernelCase& c : kernel_cases()) {
    const auto reference = trajectory(c, {Isa::scalar, 1});
    for (Isa isa : supported_isas()) {
      for (int threads : thread_counts::up_to_cap({1, 2, 4})) {
        INFO(c.label << " isa=" << isa_name(isa) << " threads=" << threads);
        CHECK(bitwise_equal(trajectory(c, {isa, threads}), reference));
      }
    }
  }
}

TEST_CASE("trajectories move and the parameter padding stays zero", "[kernels]") {
  for (const KernelCase& c : kernel_cases()) {
    INFO(c.label);
    std::mt19937 rng(42);
    auto opt = c.make({best_isa(), thread_counts::capped(2)});
    auto& g = opt->add_param_group(specs("a", rng));
    const std::vector<float> before(g.param_arena().begin(), g.param_arena().end());
    for (int step = 0; step < 2; ++step) {
      for (std::size_t i = 0; i < g.size(); ++i)
        for (float& x : g.grad(i).data) x = step == 0 ? 0.5f : 0.25f;
      opt->step();
    }
    // Where the rule itself makes a zero gradient's state nonzero (Adamax: |0| + eps; Rprop: step
    // sizes clamp to step_size_min), padding does the same.
    CHECK(kernel_checks::moved_with_zero_padding(g, before, {"exp_inf", "step_size"}) ==
          1 + 15 + 16 + 17 + 1009 + 100003);
  }
}

TEST_CASE("builds agree bit for bit on special values: NaN, Inf, zeros, subnormals", "[kernels]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {0.0f,    -0.0f, 1.0f,   -1.0f,  inf,  -inf, nan,   1e-40f,
                            -1e-40f, 3e38f, -3e38f, 1e-20f, 0.5f, 7.0f, -2.5f, 1e10f};
  constexpr std::int64_t n = 256;
  // Parameters and, on each of four steps, gradients drawn from the specials; the state then
  // evolves through them (NaN and Inf reach every state array).
  auto run = [&](const KernelCase& c, Isa isa) {
    std::mt19937 rng(7);
    auto pick = [&] { return specials[rng() % std::size(specials)]; };
    ParamSpec spec{"w", {n}, std::vector<float>(n)};
    for (float& x : spec.init) x = pick();
    auto opt = c.make({isa, 1});
    auto& g = opt->add_param_group({spec});
    for (int step = 0; step < 4; ++step) {
      for (float& x : g.grad(0).data) x = pick();
      opt->step();
    }
    return snapshot(*opt);
  };
  for (const KernelCase& c : kernel_cases()) {
    const auto reference = run(c, Isa::scalar);
    for (Isa isa : supported_isas()) {
      INFO(c.label << " isa=" << isa_name(isa));
      CHECK(same_bits_or_both_nan(run(c, isa), reference));
    }
  }
}
