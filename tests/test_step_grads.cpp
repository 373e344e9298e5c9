// Gradients read in place from an engine's buffers (Optimizer::step(const StepGrads&)) and
// scaled inside the step (StepGrads::scale, clip_grad_norm_and_step): every optimizer, every
// kernel build and several thread counts, bit for bit against the arena path (copy the gradients
// into the arena, clip in place, step).
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
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

namespace {

// Sizes that break things (0, 1, a batch less one, one, one more, a prime), one above the step's
// chunk and the reductions' chunk, and matrices for Adafactor's factored path.
const std::vector<Shape> kGroup0 = {{1}, {15}, {16}, {0}, {17}, {1031}, {70001}, {40, 30}};
const std::vector<Shape> kGroup1 = {{33}, {8, 12}, {5}};

std::vector<ParamSpec> specs(const std::vector<Shape>& shapes, const std::string& prefix,
                             std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<ParamSpec> out;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    std::size_t n = 1;
    for (auto d : shapes[i]) n *= d;
    std::vector<float> init(n);
    for (float& x : init) x = normal(rng);
    out.push_back({prefix + std::to_string(i), shapes[i], init});
  }
  return out;
}

std::unique_ptr<Optimizer> make(const std::string& name, RuntimeOptions runtime) {
  auto opt = make_optimizer(name, runtime);
  std::mt19937 rng(7);
  opt->add_param_group(specs(kGroup0, "a", rng));
  if (name != "lbfgs") {
    GroupOptions second;
    if (opt->defaults().contains("weight_decay")) second.set("weight_decay", 0.01);
    opt->add_param_group(specs(kGroup1, "b", rng), second);
  }
  return opt;
}

// One step's gradients in the engine's buffers, one per tensor, each starting one float into
// its vector so that none is 64-byte aligned; `present[k]` false: no gradient.
struct EngineGrads {
  std::vector<std::vector<float>> buffers;
  std::vector<bool> present;
  std::vector<const float*> pointers() const {
    std::vector<const float*> p;
    for (std::size_t k = 0; k < buffers.size(); ++k)
      p.push_back(present[k] ? buffers[k].data() + 1 : nullptr);
    return p;
  }
};

EngineGrads engine_grads(Optimizer& opt, int step, float magnitude, bool with_inf) {
  std::mt19937 rng(100 + step);
  std::normal_distribution<float> normal(0.0f, magnitude);
  EngineGrads e;
  std::size_t k = 0;
  for (ParamGroup& g : opt.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i, ++k) {
      std::vector<float> b(g.info(i).numel + 1, 0.0f);
      for (std::size_t j = 1; j < b.size(); ++j) b[j] = normal(rng);
      if (with_inf && b.size() > 3) b[2] = std::numeric_limits<float>::infinity();
      e.buffers.push_back(std::move(b));
      // Step 0: every gradient; later steps leave some out (torch: grad is None).
      e.present.push_back(step == 0 || (k + static_cast<std::size_t>(step)) % 3 != 0);
    }
  return e;
}

// The arena path: the gradients written into the arena, the absent ones marked absent.
void write_arena(Optimizer& opt, const EngineGrads& e) {
  std::size_t k = 0;
  for (ParamGroup& g : opt.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i, ++k) {
      if (!e.present[k]) {
        g.set_has_grad(i, false);
        continue;
      }
      const auto view = g.grad(i).data;
      std::memcpy(view.data(), e.buffers[k].data() + 1, view.size() * sizeof(float));
    }
}

// Parameters, state arrays and step counts, padding included.
std::vector<float> snapshot(Optimizer& opt) {
  std::vector<float> out;
  for (ParamGroup& g : opt.param_groups()) {
    const auto p = g.param_arena();
    out.insert(out.end(), p.begin(), p.end());
    for (const auto& name : g.state_names()) {
      const float* s = g.state_arena(name);
      out.insert(out.end(), s, s + g.padded_numel());
    }
    for (std::size_t i = 0; i < g.size(); ++i) out.push_back(static_cast<float>(g.step_count(i)));
  }
  return out;
}

bool param_padding_zero(Optimizer& opt) {
  for (ParamGroup& g : opt.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i) {
      const std::size_t end = i + 1 < g.size() ? g.info(i + 1).offset : g.padded_numel();
      for (std::size_t k = g.info(i).offset + g.info(i).numel; k < end; ++k)
        if (g.param_arena()[k] != 0.0f) return false;
    }
  return true;
}

enum class Mode { external, scaled_arena, clip_arena, clip_external, clip_inf_external };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::external:
      return "external";
    case Mode::scaled_arena:
      return "scaled arena";
    case Mode::clip_arena:
      return "clip+step arena";
    case Mode::clip_external:
      return "clip+step external";
    case Mode::clip_inf_external:
      return "clip+step external, inf norm";
  }
  return "";
}

// Three steps of `name` by the arena path (reference) and by `mode`, compared after each.
void compare(const std::string& name, Mode mode, double max_norm, RuntimeOptions runtime,
             bool skip_nonfinite = false) {
  auto ref = make(name, runtime);
  auto sub = make(name, runtime);
  ref->set_skip_if_nonfinite(skip_nonfinite);
  sub->set_skip_if_nonfinite(skip_nonfinite);
  const double norm_type =
      mode == Mode::clip_inf_external ? std::numeric_limits<double>::infinity() : 2.0;
  for (int step = 0; step < 3; ++step) {
    INFO("step " << step);
    const EngineGrads e = engine_grads(*ref, step, 0.5f, skip_nonfinite && step == 1);
    const std::vector<const float*> pointers = e.pointers();
    write_arena(*ref, e);
    double ref_norm = 0.0, sub_norm = 0.0;
    switch (mode) {
      case Mode::external:
        ref->step();
        sub->step(StepGrads{pointers});
        break;
      case Mode::scaled_arena: {
        write_arena(*sub, e);
        const float scale = 0.37f;
        for (ParamGroup& g : ref->param_groups())
          for (std::size_t i = 0; i < g.size(); ++i)
            if (g.has_grad(i))
              for (float& x : g.grad(i).data) x *= scale;
        ref->step();
        sub->step(StepGrads{{}, scale});
        break;
      }
      case Mode::clip_arena:
        write_arena(*sub, e);
        ref_norm = clip_grad_norm_(*ref, max_norm, norm_type);
        ref->step();
        sub_norm = clip_grad_norm_and_step(*sub, max_norm, norm_type);
        break;
      case Mode::clip_external:
      case Mode::clip_inf_external:
        ref_norm = clip_grad_norm_(*ref, max_norm, norm_type);
        ref->step();
        sub_norm = clip_grad_norm_and_step(*sub, max_norm, norm_type, false, pointers);
        break;
    }
    CHECK(std::memcmp(&ref_norm, &sub_norm, sizeof ref_norm) == 0);
    CHECK(ref->last_step_skipped() == sub->last_step_skipped());
    REQUIRE(bitwise_equal(snapshot(*ref), snapshot(*sub)));
    REQUIRE(param_padding_zero(*sub));
  }
}

}  // namespace

TEST_CASE("engine gradients and scaled steps equal the arena path, every optimizer",
          "[step_grads]") {
  for (const std::string& name : registered_optimizers()) {
    if (name == "lbfgs") continue;
    for (Isa isa : supported_isas())
      for (int threads : thread_counts::up_to_cap({1, 3})) {
        const RuntimeOptions runtime{isa, threads};
        for (Mode mode : {Mode::external, Mode::scaled_arena, Mode::clip_arena, Mode::clip_external,
                          Mode::clip_inf_external})
          for (double max_norm : {0.05, 1e9}) {
            INFO(name << " isa=" << isa_name(isa) << " threads=" << threads << " "
                      << mode_name(mode) << " max_norm=" << max_norm);
            compare(name, mode, max_norm, runtime);
          }
      }
  }
}

TEST_CASE("skip_if_nonfinite sees engine gradients and the clip coefficient", "[step_grads]") {
  for (const std::string name : {"adam", "sgd", "lamb"})
    for (Isa isa : supported_isas())
      for (Mode mode : {Mode::external, Mode::clip_external}) {
        INFO(name << " isa=" << isa_name(isa) << " " << mode_name(mode));
        compare(name, mode, 0.05, RuntimeOptions{isa, thread_counts::capped(2)}, true);
      }
}

TEST_CASE("step with engine gradients leaves the arena's gradients and flags alone",
          "[step_grads]") {
  auto opt = make("adam", {});
  ParamGroup& g = opt->param_groups()[0];
  g.grad(1).data[0] = 3.0f;  // present, in the arena
  const EngineGrads e = engine_grads(*opt, 0, 1.0f, false);
  const std::vector<const float*> pointers = e.pointers();
  opt->step(StepGrads{pointers, 0.5f});
  CHECK(g.has_grad(1));
  CHECK_FALSE(g.has_grad(0));
  CHECK(g.grad_arena()[g.info(1).offset] == 3.0f);
  CHECK(g.step_count(0) == 1);
}

TEST_CASE("step with engine gradients refuses a wrong count and LBFGS", "[step_grads]") {
  auto opt = make("adam", {});
  const std::vector<const float*> too_few(3, nullptr);
  CHECK_THROWS_AS(opt->step(StepGrads{too_few}), std::invalid_argument);
  auto lbfgs = make("lbfgs", {});
  const EngineGrads e = engine_grads(*lbfgs, 0, 1.0f, false);
  const std::vector<const float*> pointers = e.pointers();
  CHECK_THROWS_AS(lbfgs->step(StepGrads{pointers}), std::logic_error);
}
