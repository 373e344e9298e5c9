// Every elementwise optimizer of the registry, every kernel build against the scalar reference,
// bit for bit, at 1, 2 and 4 threads, through the whole optimizer path (arenas, runs of tensors,
// chunking, threads), with every flag of its option table on and off, and on special values
// (NaN, Inf, zeros, subnormals, huge values).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
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

struct Case {
  std::string name;
  GroupOptions first;   // overrides of the first group
  GroupOptions second;  // overrides of the second group
  std::string label() const {
    std::string s = name;
    for (const auto& [k, v] : first.items()) s += " " + k + "=" + std::to_string(v);
    return s;
  }
};

bool is_elementwise(const std::string& name) {
  return dynamic_cast<ElementwiseOptimizer*>(make_optimizer(name).get()) != nullptr;
}

// Options that reach code paths flags alone do not (values that gate state or change a branch).
const std::map<std::string, std::vector<GroupOptions>> kExtraVariants = {
    {"sgd", {{{"momentum", 0.9}, {"dampening", 0.1}}, {{"momentum", 0.9}, {"nesterov", 1.0}}}},
    {"rmsprop", {{{"momentum", 0.9}}, {{"momentum", 0.9}, {"centered", 1.0}}}},
    {"adagrad", {{{"initial_accumulator_value", 0.1}, {"lr_decay", 0.01}}}},
    {"asgd", {{{"t0", 2.0}, {"lambd", 1e-2}}}},
    {"rprop", {{{"step_size_min", 5e-3}, {"step_size_max", 3e-2}}}},
    // beta2 = 0.9: rho_t crosses 5 at another step than with the default.
    {"radam", {{{"beta2", 0.9}}}},
};

// For each elementwise optimizer: its defaults, each flag on, weight decay on, every flag and
// weight decay on together, and kExtraVariants; combinations the optimizer refuses are left out.
std::vector<Case> cases() {
  std::vector<Case> out;
  for (const std::string& name : registered_optimizers()) {
    if (!is_elementwise(name)) continue;
    const auto options = optimizer_options(name);
    std::vector<GroupOptions> variants = {{}};
    GroupOptions all;
    for (const OptionInfo& o : options) {
      if (o.flag) {
        variants.push_back({{o.name, 1.0}});
        all.set(o.name, 1.0);
      } else if (o.name == "weight_decay") {
        variants.push_back({{o.name, 0.05}});
        all.set(o.name, 0.05);
      }
    }
    variants.push_back(all);
    if (const auto it = kExtraVariants.find(name); it != kExtraVariants.end())
      variants.insert(variants.end(), it->second.begin(), it->second.end());
    const double lr = make_optimizer(name)->defaults().get("lr");
    for (const GroupOptions& v : variants) {
      try {
        make_optimizer(name)->add_param_group({{"x", {1}, {}}}, v);
      } catch (const std::invalid_argument&) {
        continue;
      }
      out.push_back({name, v, {{"lr", lr * 0.3}}});
    }
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

// `steps` steps on two groups; tensor 3 of group 0 has no gradient on every third step, so runs
// split and step counts diverge.
std::vector<float> trajectory(const Case& c, RuntimeOptions runtime, int steps = 8) {
  std::mt19937 rng(42);
  auto opt = make_optimizer(c.name, runtime);
  opt->add_param_group(specs("a", rng), c.first);
  GroupOptions second = c.first;
  for (const auto& [k, v] : c.second.items()) second.set(k, v);
  opt->add_param_group(specs("b", rng), second);
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
  const std::string list = expected != nullptr ? expected : "";
  for (std::size_t pos = 0; pos < list.size();) {
    const std::size_t comma = std::min(list.find(',', pos), list.size());
    const std::string name = list.substr(pos, comma - pos);
    INFO("SIMDOPTIM_EXPECT_ISAS names " << name);
    CHECK(isa_supported(parse_isa(name)));
    pos = comma + 1;
  }
}

TEST_CASE("the cases cover every elementwise optimizer of the registry", "[kernels]") {
  std::vector<std::string> covered;
  for (const Case& c : cases())
    if (covered.empty() || covered.back() != c.name) covered.push_back(c.name);
  std::vector<std::string> expected;
  for (const std::string& name : registered_optimizers())
    if (is_elementwise(name)) expected.push_back(name);
  CHECK(covered == expected);
  CHECK(expected.size() >= 12);
}

// Every build on one thread, and the best build on 2 and 4 threads too: the chunking is the
// same code for every build, so more threads on every build would add run time (the sanitizer
// builds run this at -O1), not coverage.
TEST_CASE("every build equals the scalar reference bit for bit, the best one at 1, 2 and 4 threads",
          "[kernels]") {
  for (const Case& c : cases()) {
    const auto reference = trajectory(c, {Isa::scalar, 1});
    for (Isa isa : supported_isas()) {
      if (isa == Isa::scalar) continue;
      const bool best = isa == best_isa();
      for (int threads : best ? thread_counts::up_to_cap({1, 2, 4}) : std::vector<int>{1}) {
        INFO(c.label() << " isa=" << isa_name(isa) << " threads=" << threads);
        CHECK(bitwise_equal(trajectory(c, {isa, threads}), reference));
      }
    }
    // The scalar reference itself split over threads.
    for (int threads : thread_counts::up_to_cap({3})) {
      INFO(c.label() << " isa=scalar threads=" << threads);
      CHECK(bitwise_equal(trajectory(c, {Isa::scalar, threads}), reference));
    }
  }
}

TEST_CASE("trajectories move and the padding stays zero", "[kernels]") {
  for (const Case& c : cases()) {
    INFO(c.label());
    std::mt19937 rng(42);
    auto opt = make_optimizer(c.name, {best_isa(), thread_counts::capped(2)});
    auto& g = opt->add_param_group(specs("a", rng), c.first);
    const std::vector<float> before(g.param_arena().begin(), g.param_arena().end());
    for (int step = 0; step < 2; ++step) {
      for (std::size_t i = 0; i < g.size(); ++i)
        for (float& x : g.grad(i).data) x = step == 0 ? 0.5f : 0.25f;
      opt->step();
    }
    CHECK(kernel_checks::moved_with_zero_padding(g, before) == 1 + 15 + 16 + 17 + 1009 + 100003);
  }
}

TEST_CASE("builds agree bit for bit on special values: NaN, Inf, zeros, subnormals", "[kernels]") {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {0.0f,    -0.0f, 1.0f,   -1.0f,  inf,  -inf, nan,   1e-40f,
                            -1e-40f, 3e38f, -3e38f, 1e-20f, 0.5f, 7.0f, -2.5f, 1e10f};
  constexpr std::int64_t n = 256;
  // Parameters, gradients and, after the first step, every state array drawn from the specials
  // (second moments and accumulators non-negative), then three more steps: each term meets
  // every special.
  auto run = [&](const Case& c, Isa isa) {
    std::mt19937 rng(7);
    auto pick = [&] { return specials[rng() % std::size(specials)]; };
    ParamSpec spec{"w", {n}, std::vector<float>(n)};
    for (float& x : spec.init) x = pick();
    auto opt = make_optimizer(c.name, {isa, 1});
    auto& g = opt->add_param_group({spec}, c.first);
    for (int step = 0; step < 4; ++step) {
      for (float& x : g.grad(0).data) x = pick();
      opt->step();
      if (step > 0) continue;
      for (const auto& name : g.state_names()) {
        const bool square = name == "exp_avg_sq" || name == "max_exp_avg_sq" ||
                            name == "square_avg" || name == "sum" || name == "acc_delta";
        for (float& x : g.state(0, name).data) x = square ? std::fabs(pick()) : pick();
      }
    }
    return snapshot(*opt);
  };
  for (const Case& c : cases()) {
    const auto reference = run(c, Isa::scalar);
    for (Isa isa : supported_isas()) {
      INFO(c.label() << " isa=" << isa_name(isa));
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
