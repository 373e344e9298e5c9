// 16-bit storage with every elementwise optimizer, not only the four tested against an fp64
// reference in test_storage_precision.cpp: the generic driver widens, runs the description's fp32
// update and narrows, so each description must give the scalar reference's bits on every build
// and thread count, and stay finite and close to its fp32 run.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/half.hpp"
#include "simdoptim/simdoptim.hpp"
#include "storage_checks.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;

namespace {

struct Named {
  std::string name;
  GroupOptions options;  // switches that add state arrays or flags
};

std::vector<Named> elementwise_optimizers() {
  const std::vector<Named> extra = {
      {"sgd", {{"momentum", 0.9}, {"nesterov", 1.0}, {"weight_decay", 0.01}}},
      {"rmsprop", {{"momentum", 0.5}, {"centered", 1.0}}},
      {"adam", {{"amsgrad", 1.0}, {"weight_decay", 0.01}}},
      {"adagrad", {{"lr_decay", 0.01}}},
  };
  std::vector<Named> out;
  for (const std::string& name : registered_optimizers()) {
    if (!make_optimizer(name)->supports_storage()) continue;
    auto it =
        std::find_if(extra.begin(), extra.end(), [&](const Named& n) { return n.name == name; });
    out.push_back(it == extra.end() ? Named{name, {}} : *it);
  }
  return out;
}

// `tolerance`: the largest distance of the stored parameters (|p| < 2 over 5 steps) from the fp32
// run: a bf16 spacing is at most 2^-7 there, half of it per rounding to nearest (5 x 2^-8 = 0.02,
// 0.025 with the state's roundings), a whole one per stochastic rounding (0.04, then 0.045); an
// fp16 copy of fp32 master weights is one rounding from them (2^-11).
struct Layout {
  const char* label;
  StorageOptions storage;
  float tolerance;
};

const Layout kLayouts[] = {
    {"bf16 everything", {.param = DType::bf16, .grad = DType::bf16, .state = DType::bf16}, 0.025f},
    {"f16 params with master weights, f16 grads",
     {.param = DType::f16, .grad = DType::f16, .master_weights = true},
     0.001f},
    {"bf16 params stochastically rounded, bf16 state",
     {.param = DType::bf16, .state = DType::bf16, .stochastic_rounding = true, .seed = 9},
     0.045f},
};

const std::int64_t kSizes[] = {1, 17, 300, 1031};

float gradient(int step, std::size_t k) {
  return std::sin(0.37f * static_cast<float>(k) + 1.3f * static_cast<float>(step)) *
         (k % 7 == 0 ? 1e-3f : 1.0f);
}

struct Run {
  std::vector<std::uint32_t> bits;  // every stored value
  std::vector<float> params;        // the parameters as floats
};

Run run(const Named& o, const StorageOptions& storage, RuntimeOptions runtime) {
  auto opt = make_optimizer(o.name, runtime);
  std::vector<ParamSpec> specs;
  for (std::int64_t n : kSizes) {
    ParamSpec p{"w" + std::to_string(n), {n}, {}};
    for (std::int64_t k = 0; k < n; ++k) p.init.push_back(std::cos(0.1f * static_cast<float>(k)));
    specs.push_back(std::move(p));
  }
  ParamGroup& g = opt->add_param_group(specs, o.options, storage);
  for (int step = 1; step <= 5; ++step) {
    for (std::size_t i = 0; i < g.size(); ++i) {
      const TensorView v = g.grad(i);
      for (std::size_t k = 0; k < g.info(i).numel; ++k) {
        const float x = gradient(step, k);
        if (v.dtype == DType::f32)
          v.data[k] = x;
        else
          v.data16[k] = v.dtype == DType::bf16 ? detail::bf16_from_f32(x) : detail::f16_from_f32(x);
      }
    }
    opt->step();
  }
  Run r;
  auto add = [&](const TensorView& v) {
    for (float x : v.data) {
      std::uint32_t b;
      std::memcpy(&b, &x, 4);
      r.bits.push_back(b);
    }
    for (std::uint16_t h : v.data16) r.bits.push_back(h);
  };
  for (std::size_t i = 0; i < g.size(); ++i) {
    const TensorView p = g.param(i);
    add(p);
    if (storage.master_weights) add(g.master_param(i));
    for (const std::string& name : g.state_names()) add(g.state(i, name));
    for (float x : p.data) r.params.push_back(x);
    for (std::uint16_t h : p.data16)
      r.params.push_back(p.dtype == DType::bf16 ? detail::f32_from_bf16(h)
                                                : detail::f32_from_f16(h));
  }
  return r;
}

}  // namespace

TEST_CASE("every elementwise optimizer steps 16-bit storage alike on every build and split",
          "[precision]") {
  const std::vector<Named> optimizers = elementwise_optimizers();
  REQUIRE(optimizers.size() >= 11);
  for (const Named& o : optimizers)
    for (const Layout& layout : kLayouts) {
      INFO(o.name << ", " << layout.label);
      const Run reference = run(o, layout.storage, {Isa::scalar, 1});
      for (bool instructions : storage_checks::bf16_instruction_settings())
        for (Isa isa : supported_isas()) {
          const bool best = isa == supported_isas().back();
          const storage_checks::Bf16Instructions use(instructions);
          for (int threads : best ? thread_counts::up_to_cap({1, 2, 4}) : std::vector<int>{1}) {
            INFO("isa " << isa_name(isa) << ", threads " << threads << ", bf16 instructions "
                        << instructions);
            CHECK(run(o, layout.storage, {isa, threads}).bits == reference.bits);
          }
        }
      // The parameters stay finite and within the layout's roundings of the fp32 run (whose
      // kernels are checked against torch).
      const Run fp32 = run(o, {}, {Isa::scalar, 1});
      REQUIRE(fp32.params.size() == reference.params.size());
      float worst = 0;
      for (std::size_t k = 0; k < fp32.params.size(); ++k) {
        REQUIRE(std::isfinite(reference.params[k]));
        worst = std::max(worst, std::fabs(reference.params[k] - fp32.params[k]));
      }
      CHECK(worst < layout.tolerance);
      CHECK(worst > 0.0f);  // the 16-bit run does round
    }
}
