// Subnormal state: a state that decays under zero gradients reaches zero instead of sinking into
// subnormal floats (where arithmetic is slow), with the same bits on every build; the switch off
// keeps torch's arithmetic, which does sink (so the first check has something to catch).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;

namespace {

// Every stored state value of every tensor, and how many of them are subnormal.
std::size_t subnormal_state(ParamGroup& g) {
  std::size_t n = 0;
  for (const auto& name : g.state_names())
    for (float x : g.state(0, name).data) n += std::fpclassify(x) == FP_SUBNORMAL;
  return n;
}

// A tensor with gradients of very different sizes for two steps, then zero gradients for
// `steps` steps (a unit whose ReLU died); returns the state and parameters after each step.
std::vector<float> decay(const std::string& name, Isa isa, bool flush, int steps,
                         std::size_t* max_subnormal) {
  auto opt = make_optimizer(name, {isa, 1});
  opt->set_flush_subnormal_state(flush);
  auto& g = opt->add_param_group({{"w", {37}, std::vector<float>(37, 0.5f)}});
  std::vector<float> out;
  *max_subnormal = 0;
  for (int step = 0; step < steps; ++step) {
    auto grad = g.grad(0).data;
    for (std::size_t i = 0; i < grad.size(); ++i)
      grad[i] = step < 2 ? std::ldexp(1.0f, -static_cast<int>(i) * 3) : 0.0f;
    opt->step();
    *max_subnormal = std::max(*max_subnormal, subnormal_state(g));
    for (const auto& s : g.state_names())
      for (float x : g.state(0, s).data) out.push_back(x);
    for (float x : g.param(0).data) out.push_back(x);
  }
  return out;
}

bool is_elementwise(const std::string& name) {
  return dynamic_cast<ElementwiseOptimizer*>(make_optimizer(name).get()) != nullptr;
}

}  // namespace

TEST_CASE("decaying state never becomes subnormal, on every build, with the same bits",
          "[subnormal]") {
  for (const std::string& name : registered_optimizers()) {
    if (!is_elementwise(name)) continue;
    INFO(name);
    CHECK(make_optimizer(name)->flush_subnormal_state());  // on by default
    std::size_t subnormal = 0;
    const auto reference = decay(name, Isa::scalar, true, 1200, &subnormal);
    CHECK(subnormal == 0);
    for (Isa isa : supported_isas()) {
      INFO(isa_name(isa));
      const auto other = decay(name, isa, true, 1200, &subnormal);
      CHECK(subnormal == 0);
      CHECK(std::memcmp(other.data(), reference.data(), other.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("with flushing off, Adam's exp_avg sinks into subnormals as torch's does",
          "[subnormal]") {
  for (Isa isa : supported_isas()) {
    INFO(isa_name(isa));
    std::size_t subnormal = 0;
    decay("adam", isa, false, 1200, &subnormal);
    CHECK(subnormal > 0);
  }
}
