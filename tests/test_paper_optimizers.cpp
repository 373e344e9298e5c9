// Lion, LAMB, LARS and Adafactor against the golden trajectories of tests/data/paper_optimizers
// (tools/gen_golden_paper_optimizers.py, from the NumPy references of
// tools/reference_optimizers.py), on the scalar reference and every SIMD build; and their option
// validation.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "golden_file.hpp"
#include "invalid_argument_message.hpp"
#include "simdoptim/simdoptim.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;

namespace {

std::unique_ptr<Optimizer> make(const std::string& name, const GroupOptions& first, Isa isa) {
  const RuntimeOptions runtime{isa, thread_counts::capped(2)};
  if (name == "lion") return std::make_unique<Lion>(LionOptions{}, runtime);
  if (name == "lamb") {
    // timm reads max_grad_norm from `defaults`; here each group's value counts, and the golden
    // groups all carry the same one.
    LambOptions o;
    o.max_grad_norm = first.get("max_grad_norm");
    return std::make_unique<Lamb>(o, runtime);
  }
  if (name == "lars") return std::make_unique<Lars>(LarsOptions{}, runtime);
  if (name == "adafactor") return std::make_unique<Adafactor>(AdafactorOptions{}, runtime);
  throw std::invalid_argument("unknown optimizer " + name);
}

// Tolerance: |ours - reference| <= k * (|reference| + scale), scale = the group's lr for
// parameters and the array's largest magnitude for state. The NumPy references perform the same
// float32 operations in the same order as the scalar kernels; they differ only in the per-tensor
// norms (float64 sums in another order, so a rounded trust ratio or step size may differ by an
// ulp, carried forward for 30 steps), for Adafactor in the row/column means (squares summed
// in float64 in NumPy, in float lanes here), and where a kernel multiplies by a reciprocal that
// the published formula divides by (LAMB's bias corrections, Adafactor's row mean: one division
// per element instead of three keeps them at the memory limit). Largest errors seen on this
// machine (printed with SIMDOPTIM_GOLDEN_VERBOSE=1): Lion 0 (bit for bit), LAMB 3.1e-6, LARS
// 2.5e-7, Adafactor 1.3e-6; k is about 10x that.
double tolerance_factor(const std::string& name) {
  if (name == "adafactor") return 1e-5;
  if (name == "lamb") return 3e-5;
  if (name == "lars") return 3e-6;
  return 1e-6;
}

using Trajectory = std::vector<std::vector<std::vector<float>>>;

Trajectory replay(const golden::File& g, const golden::Case& c, Isa isa, golden::Worst& worst) {
  auto opt = make(g.optimizer, c.options[0], isa);
  std::vector<std::vector<ParamSpec>> specs(g.groups);
  std::vector<std::size_t> local(g.tensors.size());
  for (std::size_t t = 0; t < g.tensors.size(); ++t) {
    local[t] = specs[g.tensors[t].group].size();
    specs[g.tensors[t].group].push_back({g.tensors[t].name, g.tensors[t].shape, g.init[t]});
  }
  for (std::size_t group = 0; group < g.groups; ++group)
    opt->add_param_group(std::move(specs[group]), c.options[group]);
  auto group_of = [&](std::size_t t) -> ParamGroup& {
    return opt->param_groups()[g.tensors[t].group];
  };
  Trajectory out(g.steps);
  for (std::size_t s = 0; s < g.steps; ++s) {
    opt->zero_grad();
    std::vector<std::vector<float>> before(g.tensors.size());
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
      const auto& grad = g.grads[s][t];
      if (grad) std::copy(grad->begin(), grad->end(), group_of(t).grad(local[t]).data.begin());
      const auto p = group_of(t).param(local[t]).data;
      before[t].assign(p.begin(), p.end());
    }
    opt->step();
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
      auto& group = group_of(t);
      const auto p = group.param(local[t]).data;
      out[s].emplace_back(p.begin(), p.end());
      const std::string what = c.name + " step " + std::to_string(s) + " " + g.tensors[t].name;
      if (!g.grads[s][t]) {
        INFO(what << ": no gradient, so the tensor is skipped");
        CHECK(golden::same_bits(p, before[t]));
      }
      worst.compare(p, c.params[s][t], group.lr(), what);
    }
  }
  for (std::size_t t = 0; t < g.tensors.size(); ++t) {
    auto& group = group_of(t);
    const auto& expected = c.state[t];
    INFO(c.name << " final state of " << g.tensors[t].name);
    CHECK(group.step_count(local[t]) == expected.step);
    for (const auto& [name, values] : expected.arrays) {
      // Adafactor keeps its statistics outside the arenas (its memory saving).
      const auto* adafactor = dynamic_cast<const Adafactor*>(opt.get());
      const std::span<const float> ours =
          adafactor != nullptr ? adafactor->factored_state(g.tensors[t].group, local[t], name)
                               : group.state(local[t], name).data;
      worst.compare(ours, values, golden::max_abs(values), c.name + " state " + name);
    }
  }
  return out;
}

const char* const kOptimizers[] = {"lion", "lamb", "lars", "adafactor"};

golden::File load(const std::string& name) {
  return golden::load(std::string(SIMDOPTIM_TEST_DATA_DIR) + "/paper_optimizers/" + name +
                      ".golden");
}

}  // namespace

TEST_CASE("golden files: two groups, at least 25 steps, absent gradients", "[beyond]") {
  for (const char* name : kOptimizers) {
    const auto g = load(name);
    INFO(name);
    CHECK(g.optimizer == name);
    CHECK(g.steps >= 25);
    CHECK(g.groups == 2);
    CHECK(g.cases.size() >= 4);
    bool absent = false;
    for (const auto& step : g.grads)
      for (const auto& grad : step) absent = absent || !grad;
    CHECK(absent);
  }
}

TEST_CASE("Lion, LAMB, LARS and Adafactor follow the NumPy references on every build", "[beyond]") {
  for (const char* name : kOptimizers) {
    const auto g = load(name);
    const double k = tolerance_factor(name);
    std::vector<Trajectory> scalar;
    for (const Isa isa : supported_isas()) {
      golden::Worst overall(k);
      for (std::size_t ci = 0; ci < g.cases.size(); ++ci) {
        golden::Worst worst(k);
        const auto trajectory = replay(g, g.cases[ci], isa, worst);
        INFO(isa_name(isa) << ": worst value " << worst.where());
        CHECK(worst.ratio() <= 1.0);
        overall.merge(worst);
        if (isa == Isa::scalar) {
          scalar.push_back(trajectory);
        } else {
          INFO(g.cases[ci].name << " on " << isa_name(isa) << " equals scalar bit for bit");
          bool same = true;
          for (std::size_t s = 0; s < g.steps; ++s)
            for (std::size_t t = 0; t < g.tensors.size(); ++t)
              same = same && golden::same_bits(trajectory[s][t], scalar[ci][s][t]);
          CHECK(same);
        }
      }
      if (std::getenv("SIMDOPTIM_GOLDEN_VERBOSE") != nullptr)
        std::cout << name << " on " << isa_name(isa)
                  << ": max |ours - ref| / (|ref| + scale) = " << overall.rel_error()
                  << " (tolerance " << k << "), at " << overall.where() << "\n";
    }
  }
}

TEST_CASE("LAMB clips with the max_grad_norm of the group, over all groups' gradients",
          "[beyond]") {
  auto opt = make_optimizer("lamb", RuntimeOptions{Isa::scalar, 1});
  opt->add_param_group({{"w", {4}, {1.0f, 2.0f, 3.0f, 4.0f}}},
                       {{"max_grad_norm", 0.0}, {"weight_decay", 0.1}, {"lr", 1e-2}});
  const std::vector<float> grad = {30.0f, -40.0f, 0.0f, 0.0f};
  std::copy(grad.begin(), grad.end(), opt->grad("w").data.begin());
  opt->step();
  // ||g|| = 50 and clipping is off: m = (1 - beta1) g, unscaled.
  const auto m = opt->param_groups()[0].state(0, "exp_avg").data;
  CHECK(m[0] == Approx(3.0f).epsilon(1e-6));
  CHECK(m[1] == Approx(-4.0f).epsilon(1e-6));

  // Groups that disagree: each divides by max(1, ||all gradients|| / its own max_grad_norm).
  auto two = make_optimizer("lamb", RuntimeOptions{Isa::scalar, 1});
  two->add_param_group({{"a", {2}, {1.0f, 1.0f}}}, {{"max_grad_norm", 10.0}});
  two->add_param_group({{"b", {1}, {1.0f}}}, {{"max_grad_norm", 0.0}});
  two->add_param_group({{"c", {1}, {1.0f}}}, {{"max_grad_norm", 100.0}});
  two->grad("a").data[0] = 30.0f;  // ||(30, 0, 40, 0)|| = 50
  two->grad("b").data[0] = 40.0f;
  two->grad("c").data[0] = 0.0f;
  two->step();
  CHECK(two->param_groups()[0].state(0, "exp_avg").data[0] == Approx(0.1f * 30.0f / 5.0f));
  CHECK(two->param_groups()[1].state(0, "exp_avg").data[0] == Approx(0.1f * 40.0f));
}

TEST_CASE("LAMB's update scratch is not optimizer state", "[beyond]") {
  for (const bool always_adapt : {false, true}) {
    auto opt = make_optimizer("lamb", RuntimeOptions{Isa::scalar, 1});
    opt->add_param_group({{"w", {5}, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f}}},
                         {{"always_adapt", always_adapt ? 1.0 : 0.0}});
    opt->add_param_group({{"big", {300}, {}}}, {{"weight_decay", 0.0}, {"always_adapt", 1.0}});
    for (int s = 0; s < 2; ++s) {
      for (auto& g : opt->param_groups())
        for (float& x : g.grad(0).data) x = 0.5f;
      opt->step();
    }
    for (auto& g : opt->param_groups())
      CHECK(g.state_names() == std::vector<std::string>{"exp_avg", "exp_avg_sq"});
    for (const auto& g : state_dict(*opt).param_groups)
      for (const auto& t : g.tensors) {
        CHECK(t.arrays.size() == 2);
        for (const auto& a : t.arrays) CHECK(a.name != "update");
      }
  }
}

TEST_CASE("Adafactor with eps1^2 = 0 in float32 keeps its padding zero and follows torch",
          "[beyond]") {
  // eps1 = 1e-30 squares to 0 in float32; padding (g = 0, V = 0) once gave U = 0 / sqrt(0) = NaN,
  // then RMS(p) = NaN from step 2, and max(eps2, NaN) = eps2 shrank every step.
  for (const Isa isa : supported_isas()) {
    INFO(isa_name(isa));
    auto opt = make_optimizer("adafactor", RuntimeOptions{isa, 1});
    ParamGroup& g = opt->add_param_group({{"b", {3}, {1.0f, -2.0f, 0.5f}}}, {{"eps1", 1e-30}});
    const float grads[2][3] = {{1e-3f, 2e-3f, -1e-3f}, {1e-3f, 2e-3f, 5e-4f}};
    for (const auto& step : grads) {
      std::copy(std::begin(step), std::end(step), g.grad(0).data.begin());
      opt->step();
    }
    // torch 2.5's formula in double.
    const auto p = g.param(0).data;
    CHECK(p[0] == Approx(0.97349192).epsilon(1e-6));
    CHECK(p[1] == Approx(-2.02650808).epsilon(1e-6));
    CHECK(p[2] == Approx(0.50442843).epsilon(1e-6));
    for (std::size_t i = 3; i < g.padded_numel(); ++i) CHECK(g.param_arena()[i] == 0.0f);
  }
}

TEST_CASE("bad options are refused with the option's name", "[beyond]") {
  using simdoptim::test::invalid_argument_message;
  auto refuses = [](auto f, const std::string& key) {
    const std::string message = invalid_argument_message(f);
    INFO(message);
    CHECK(message.find("invalid " + key) != std::string::npos);
  };
  refuses([] { Lion(LionOptions{.lr = -1.0}); }, "lr");
  refuses([] { Lion(LionOptions{.beta1 = 1.0}); }, "beta1");
  refuses([] { Lion(LionOptions{.beta2 = -0.1}); }, "beta2");
  refuses([] { Lion(LionOptions{.weight_decay = -1.0}); }, "weight_decay");
  refuses([] { Lamb(LambOptions{.eps = -1.0}); }, "eps");
  refuses([] { Lamb(LambOptions{.beta2 = 1.5}); }, "beta2");
  refuses([] { Lamb(LambOptions{.max_grad_norm = -1.0}); }, "max_grad_norm");
  refuses([] { Lars(LarsOptions{.momentum = -0.5}); }, "momentum");
  refuses([] { Lars(LarsOptions{.trust_coeff = -1.0}); }, "trust_coeff");
  refuses([] { Lars(LarsOptions{.nesterov = true}); }, "nesterov");
  refuses([] { Adafactor(AdafactorOptions{.beta2_decay = 0.5}); }, "beta2_decay");
  refuses([] { Adafactor(AdafactorOptions{.eps1 = -1.0}); }, "eps1");
  refuses([] { Adafactor(AdafactorOptions{.eps2 = -1.0}); }, "eps2");
  refuses([] { Adafactor(AdafactorOptions{.d = 0.5}); }, "d");
  refuses(
      [] {
        Lion opt;
        opt.add_param_group({{"w", {3}, {}}}, {{"maximize", 2.0}});
      },
      "maximize");
  const std::string unknown = invalid_argument_message([] {
    Lars opt;
    opt.add_param_group({{"w", {3}, {}}}, {{"betas", 0.9}});
  });
  CHECK(unknown.find("unknown option 'betas'") != std::string::npos);
}
