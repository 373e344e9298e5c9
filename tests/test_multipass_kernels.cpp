// Lion, LAMB, LARS and Adafactor: every kernel build against the scalar reference, bit for bit,
// at 1, 2 and 4 threads, through the whole optimizer path (arenas, segments, per-tensor
// reductions, Adafactor's row blocks), on sizes that break things and on 2-D and 3-D tensors.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernel_checks.hpp"
#include "kernels/lamb_kernel.hpp"
#include "simdoptim/simdoptim.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;
using kernel_checks::bitwise_equal;

namespace {

using Factory = std::function<std::unique_ptr<Optimizer>(RuntimeOptions)>;

struct Case {
  std::string label;
  Factory make;
  GroupOptions second_group;
};

std::vector<Case> configs() {
  std::vector<Case> out;
  for (double wd : {0.0, 0.1})
    for (bool maximize : {false, true}) {
      LionOptions o{.lr = 1e-3, .weight_decay = wd, .maximize = maximize};
      out.push_back({"lion wd=" + std::to_string(wd) + " max=" + std::to_string(maximize),
                     [o](RuntimeOptions r) { return std::make_unique<Lion>(o, r); },
                     {{"lr", 3e-4}, {"beta1", 0.8}}});
    }
  for (double wd : {0.0, 0.01})
    for (bool bias_correction : {false, true})
      for (double clip : {0.0, 1.0}) {
        LambOptions o{.lr = 1e-2,
                      .weight_decay = wd,
                      .bias_correction = bias_correction,
                      .grad_averaging = !bias_correction,
                      .max_grad_norm = clip,
                      .trust_clip = clip != 0.0,
                      .always_adapt = bias_correction};
        out.push_back({"lamb wd=" + std::to_string(wd) + " bc=" + std::to_string(bias_correction) +
                           " clip=" + std::to_string(clip),
                       [o](RuntimeOptions r) { return std::make_unique<Lamb>(o, r); },
                       {{"lr", 3e-3}, {"weight_decay", 0.1}}});
      }
  for (double momentum : {0.0, 0.9})
    for (double wd : {0.0, 1e-2})
      for (bool exclude : {false, true}) {
        LarsOptions o{.lr = 0.5,
                      .momentum = momentum,
                      .weight_decay = wd,
                      .nesterov = momentum != 0.0 && exclude,
                      .trust_clip = exclude,
                      .always_adapt = !exclude,
                      .exclude_1d = exclude};
        out.push_back({"lars m=" + std::to_string(momentum) + " wd=" + std::to_string(wd) +
                           " ex=" + std::to_string(exclude),
                       [o](RuntimeOptions r) { return std::make_unique<Lars>(o, r); },
                       {{"lr", 0.1}, {"weight_decay", 0.05}}});
      }
  for (double wd : {0.0, 0.1})
    for (bool maximize : {false, true}) {
      AdafactorOptions o{.weight_decay = wd, .maximize = maximize};
      out.push_back({"adafactor wd=" + std::to_string(wd) + " max=" + std::to_string(maximize),
                     [o](RuntimeOptions r) { return std::make_unique<Adafactor>(o, r); },
                     {{"lr", 0.3}, {"beta2_decay", -0.5}, {"eps1", 1e-3}, {"d", 2.0}}});
    }
  // eps1^2 = 0 in float32: the vector kernels' scalar tails must not reach the padding.
  out.push_back({"adafactor eps1=1e-30",
                 [](RuntimeOptions r) {
                   return std::make_unique<Adafactor>(AdafactorOptions{.eps1 = 1e-30}, r);
                 },
                 {{"eps1", 0.0}, {"weight_decay", 0.1}}});
  return out;
}

// Sizes that break things (0, 1, around the widest batch, primes) as vectors, and matrices and
// batches of matrices whose rows straddle batch widths and Adafactor's row blocks.
const std::vector<Shape> kShapes = {{0},      {1},        {15},        {16},       {17},
                                    {1009},   {100003},   {0, 5},      {1, 1},     {15, 16},
                                    {16, 17}, {33, 1009}, {3, 7, 100}, {400, 300}, {2, 3, 7000}};

std::vector<ParamSpec> specs(const std::string& prefix, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::vector<ParamSpec> out;
  for (std::size_t i = 0; i < kShapes.size(); ++i) {
    ParamSpec s{prefix + std::to_string(i), kShapes[i], {}};
    s.init.resize(numel_of(kShapes[i]));
    for (float& x : s.init) x = normal(rng);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<float> trajectory(const Case& c, RuntimeOptions runtime, int steps = 5) {
  std::mt19937 rng(7);
  auto opt = c.make(runtime);
  opt->add_param_group(specs("a", rng));
  opt->add_param_group(specs("b", rng), c.second_group);
  std::normal_distribution<float> normal;
  for (int s = 0; s < steps; ++s) {
    opt->zero_grad();
    for (auto& g : opt->param_groups())
      for (std::size_t i = 0; i < g.size(); ++i) {
        if (&g == &opt->param_groups().front() && (i == 3 || i == 10) && s % 3 == 1) continue;
        for (float& x : g.grad(i).data) x = normal(rng);
      }
    opt->step();
  }
  std::vector<float> out;
  const auto* adafactor = dynamic_cast<const Adafactor*>(opt.get());
  for (std::size_t gi = 0; gi < opt->param_groups().size(); ++gi) {
    auto& g = opt->param_groups()[gi];
    for (float x : g.param_arena()) out.push_back(x);
    for (const auto& name : g.state_names()) {
      const float* st = g.state_arena(name);
      out.insert(out.end(), st, st + g.padded_numel());
    }
    for (std::size_t i = 0; i < g.size(); ++i) {
      out.push_back(static_cast<float>(g.step_count(i)));
      if (adafactor == nullptr || !g.has_state(i)) continue;
      for (const char* name : {"row_var", "col_var", "variance"}) {
        if ((g.info(i).shape.size() >= 2) != (std::string(name) != "variance")) continue;
        const auto st = adafactor->factored_state(gi, i, name);
        out.insert(out.end(), st.begin(), st.end());
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("beyond-torch optimizers: every build equals scalar bit for bit at 1, 2, 4 threads",
          "[kernels]") {
  for (const Case& c : configs()) {
    const auto reference = trajectory(c, {Isa::scalar, 1});
    bool finite = true;
    for (float x : reference) finite = finite && std::isfinite(x);
    INFO(c.label);
    CHECK(finite);
    for (Isa isa : supported_isas())
      for (int threads : thread_counts::up_to_cap({1, 2, 4})) {
        INFO(c.label << " isa=" << isa_name(isa) << " threads=" << threads);
        CHECK(bitwise_equal(trajectory(c, {isa, threads}), reference));
      }
  }
}

TEST_CASE("beyond-torch optimizers move every parameter and keep the padding zero", "[kernels]") {
  for (const Case& c : configs()) {
    INFO(c.label);
    std::mt19937 rng(3);
    auto opt = c.make({best_isa(), thread_counts::capped(2)});
    auto& g = opt->add_param_group(specs("a", rng));
    const std::vector<float> before(g.param_arena().begin(), g.param_arena().end());
    for (std::size_t i = 0; i < g.size(); ++i)
      for (float& x : g.grad(i).data) x = 0.5f;
    opt->step();
    opt->step();
    std::size_t total = 0;
    for (std::size_t i = 0; i < g.size(); ++i) total += g.info(i).numel;
    CHECK(kernel_checks::moved_with_zero_padding(g, before) == total);
  }
}

TEST_CASE("LAMB's non-temporal store of u gives the bits of the normal store", "[kernels]") {
  // The optimizer streams u only for groups beyond the caches; the kernel is checked directly.
  constexpr std::size_t n = 4099 * 16;
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  auto arena = [&](bool random) {
    auto b = std::make_unique<detail::AlignedBuffer>(n, 0);
    for (std::size_t i = 0; i < n; ++i) b->data()[i] = random ? dist(rng) : 0.0f;
    return b;
  };
  const auto param = arena(true), grad = arena(true), m0 = arena(true), v0 = arena(false);
  for (std::size_t i = 0; i < n; ++i) v0->data()[i] = std::abs(m0->data()[i]);
  for (Isa isa : supported_isas()) {
    INFO(isa_name(isa));
    std::vector<float> results[2];
    for (bool stream : {false, true}) {
      auto m = arena(false), v = arena(false), u = arena(false);
      std::copy(m0->data(), m0->data() + n, m->data());
      std::copy(v0->data(), v0->data() + n, v->data());
      detail::LambArgs a;
      a.param = param->data();
      a.grad = grad->data();
      a.exp_avg = m->data();
      a.exp_avg_sq = v->data();
      a.update = u->data();
      a.stream_update = stream;
      a.beta1 = 0.9f;
      a.beta3 = 0.1f;
      a.beta2 = 0.999f;
      a.one_minus_beta2 = 0.001f;
      a.inv_bias_correction1 = 10.0f;
      a.inv_bias_correction2_sqrt = 31.6f;
      a.eps = 1e-6f;
      a.weight_decay = 0.01f;
      constexpr std::size_t split = 2048 * 16;  // chunks start 64-byte aligned, as in a step
      detail::lamb_kernel(isa)(a, 0, split);
      detail::lamb_kernel(isa)(a, split, n);
      results[stream].assign(u->data(), u->data() + n);
    }
    CHECK(bitwise_equal(results[0], results[1]));
  }
}
