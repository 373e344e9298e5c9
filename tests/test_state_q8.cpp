// Optimizers with 8-bit block-quantized state (StorageOptions::state = q8; kernels/quant8.hpp),
// through the public API: several tensors (blocks never straddle two), every parameter and
// gradient type.
//   - Every build at 1 thread and the best at 2 and 4 equal the scalar reference bit for bit
//     (codes, scales, parameters), for SGD with momentum, Adam, AdamW, Lion and every other
//     elementwise optimizer.
//   - The scalar reference follows an fp64 transcription over 25 steps that quantizes the
//     state in double the same way (tolerance below).
//   - A NaN or Inf gradient spoils its own element only, as with fp32 state.
//   - Checkpoints (q8 state saved dequantized, quantized again on load): resume is bit-exact;
//     loading converts between q8 and fp32 or bf16 state.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/half.hpp"
#include "kernels/quant8.hpp"
#include "optim/elementwise_rule.hpp"
#include "simdoptim/simdoptim.hpp"
#include "storage_checks.hpp"
#include "storage_resume.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;
using storage_checks::bits;
using storage_checks::snapshot;

namespace {

struct Case {
  const char* name;
  GroupOptions options;
};

// SGD with momentum, Adam, AdamW, Lion: with every parameter and gradient type.
const Case kMain[] = {
    {"sgd", {{"lr", 1e-2}, {"momentum", 0.9}, {"weight_decay", 1e-2}}},
    {"adam", {{"lr", 1e-3}, {"weight_decay", 1e-2}}},
    {"adamw", {{"lr", 1e-3}, {"weight_decay", 0.1}}},
    {"lion", {{"lr", 1e-4}, {"weight_decay", 0.1}}},
};

// The others, through the same generic driver: fp32 parameters and bf16 gradients.
const Case kOthers[] = {
    {"adam", {{"amsgrad", 1.0}}},
    {"sgd", {{"momentum", 0.9}, {"nesterov", 1.0}}},
    {"rmsprop", {{"momentum", 0.9}, {"centered", 1.0}}},
    {"adagrad", {{"initial_accumulator_value", 0.1}}},
    {"adadelta", {}},
    {"adamax", {}},
    {"nadam", {}},
    {"radam", {}},
    {"rprop", {}},
    {"asgd", {}},
};

struct Layout {
  DType param, grad;
  bool master, stochastic;
  std::string name() const {
    return std::string("param ") + (stochastic ? "sr-" : "") + (master ? "master+" : "") +
           dtype_name(param) + ", grad " + dtype_name(grad);
  }
  StorageOptions storage() const {
    return {.param = param,
            .grad = grad,
            .state = DType::q8,
            .master_weights = master,
            .stochastic_rounding = stochastic,
            .seed = 7};
  }
};

std::vector<Layout> every_layout() {
  std::vector<Layout> out;
  const Layout params[] = {
      {DType::f32, DType::f32, false, false}, {DType::bf16, DType::f32, false, false},
      {DType::f16, DType::f32, false, false}, {DType::bf16, DType::f32, false, true},
      {DType::bf16, DType::f32, true, false}, {DType::f16, DType::f32, true, false}};
  for (Layout l : params)
    for (DType g : {DType::f32, DType::bf16, DType::f16}) {
      l.grad = g;
      out.push_back(l);
    }
  return out;
}

float widen(DType d, std::uint16_t h) {
  return d == DType::bf16 ? detail::f32_from_bf16(h) : detail::f32_from_f16(h);
}

// One element, a batch less one, a prime that leaves a partial block, one over several chunks.
const std::size_t kTensorSizes[] = {1, 15, 1009, 33001};
constexpr std::size_t kElements = 1 + 15 + 1009 + 33001;

float initial_param(std::size_t i) {
  static const std::vector<float> values = storage_checks::normal_values(kElements, 1);
  return values.at(i);
}

constexpr int kSteps = 25;

// Gradients whose magnitude varies within every block (1e-3 to 10).
float gradient(int step, std::size_t i) {
  static const std::vector<float> values =
      storage_checks::normal_values((kSteps + 1) * kElements, 2);
  const float scale[] = {1e-3f, 0.1f, 1.0f, 10.0f};
  return values.at(static_cast<std::size_t>(step) * kElements + i) * scale[(i / 7) % 4];
}

std::vector<ParamSpec> test_params() {
  return storage_checks::params_of_sizes(kTensorSizes, initial_param);
}

void write_grads(ParamGroup& g, int step) {
  storage_checks::write_grads(g, [step](std::size_t at) { return gradient(step, at); });
}

std::vector<std::uint32_t> run_optimizer(const Case& c, const Layout& layout, Isa isa, int threads,
                                         int steps) {
  auto opt = make_optimizer(c.name, RuntimeOptions{isa, threads});
  ParamGroup& g = opt->add_param_group(test_params(), c.options, layout.storage());
  for (int step = 1; step <= steps; ++step) {
    write_grads(g, step);
    opt->step();
  }
  return snapshot(g);
}

std::vector<std::pair<Isa, int>> isa_thread_runs() {
  std::vector<std::pair<Isa, int>> runs;
  for (Isa isa : supported_isas())
    if (isa != Isa::scalar) runs.emplace_back(isa, 1);
  for (int threads : thread_counts::up_to_cap({2, 4})) runs.emplace_back(best_isa(), threads);
  return runs;
}

// Parameter values of the group, widened to float.
std::vector<float> params_of(ParamGroup& g) {
  std::vector<float> out;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const TensorView v = g.storage().master_weights ? g.master_param(i) : g.param(i);
    for (float x : v.data) out.push_back(x);
    for (std::uint16_t h : v.data16) out.push_back(widen(v.dtype, h));
  }
  return out;
}

// ---- the fp64 transcription ----

// y in [0, 2) rounded to the nearest code value with `mant` mantissa bits (4-bit exponent,
// binade [1, 2) at the top, subnormal step 2^-(13 + mant)), ties to even, saturating below 2.
double round_code(double y, int mant) {
  const double step = y < std::ldexp(1.0, -13) ? std::ldexp(1.0, -13 - mant)
                                               : std::ldexp(1.0, std::ilogb(y) - mant);
  const double q = std::nearbyint(y / step) * step;
  return std::min(q, 2.0 - std::ldexp(1.0, -mant));
}

// A block of state quantized and dequantized in double: scale the power of two at or below
// the largest magnitude (of the square root, for non-negative states). The quantizer takes
// floats: its input is rounded to float first (with 16-bit gradients, few significant bits, the
// rounding often lands exactly on a code boundary, and the tie goes to the even code).
void quantize_block(double* x, std::size_t n, bool non_negative) {
  for (std::size_t j = 0; j < n; ++j) x[j] = static_cast<float>(x[j]);
  double largest = 0;
  for (std::size_t j = 0; j < n; ++j)
    largest = std::max(largest, non_negative ? std::sqrt(x[j]) : std::fabs(x[j]));
  if (largest == 0) return;
  const double s = std::ldexp(1.0, std::ilogb(largest));
  for (std::size_t j = 0; j < n; ++j) {
    if (non_negative) {
      const double r = round_code(std::sqrt(x[j]) / s, 4) * s;
      x[j] = r * r;
    } else {
      x[j] = std::copysign(round_code(std::fabs(x[j]) / s, 3) * s, x[j]);
    }
  }
}

double round_to(DType d, double x) {
  if (d == DType::f32 || x == 0.0) return x;
  const int mant = d == DType::bf16 ? 7 : 10, min_exp = d == DType::bf16 ? -126 : -14;
  int e;
  std::frexp(x, &e);
  const int q = std::max(e - 1 - mant, min_exp - mant);
  return std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);
}

// The fp64 run of `c` (sgd, adam, adamw, lion) with q8 state, fp32 or 16-bit parameters
// (rounded to nearest-even) or master weights, on test_params() in blocks of 256 per tensor.
std::vector<double> reference(const Case& c, const Layout& layout, int steps = kSteps) {
  const auto* reg = detail::find_registration(c.name);
  GroupOptions o = detail::defaults_of(reg->options);
  for (const auto& [k, v] : c.options.items()) o.set(k, v);
  const std::string name = c.name;
  const DType pf = layout.master ? DType::f32 : layout.param;
  std::vector<double> p(kElements), m(kElements, 0.0), v(kElements, 0.0);
  for (std::size_t i = 0; i < kElements; ++i) p[i] = round_to(pf, initial_param(i));
  const double lr = o.get("lr"), wd = o.get("weight_decay");
  // The moments' coefficients as the kernel gets them, rounded to float (they decide on which
  // side of a code boundary a product of a 16-bit gradient falls).
  auto f = [](double x) { return static_cast<double>(static_cast<float>(x)); };
  for (int t = 1; t <= steps; ++t) {
    for (std::size_t i = 0; i < kElements; ++i) {
      const double g = round_to(layout.grad, gradient(t, i));
      double& pi = p[i];
      if (name == "sgd") {
        const double d = g + wd * pi;
        m[i] = t == 1 ? d : f(o.get("momentum")) * m[i] + f(1.0 - o.get("dampening")) * d;
        pi = pi - lr * m[i];
      } else if (name == "lion") {
        const double b1 = o.get("beta1"), b2 = o.get("beta2");
        pi = pi * (1.0 - lr * wd);
        const double u = f(b1) * m[i] + f(1.0 - b1) * g;
        pi = pi - lr * (u > 0 ? 1.0 : u < 0 ? -1.0 : 0.0);
        m[i] = f(b2) * m[i] + f(1.0 - b2) * g;
      } else {
        const double b1 = o.get("beta1"), b2 = o.get("beta2"), eps = o.get("eps");
        double gg = g;
        if (name == "adamw")
          pi = pi * (1.0 - lr * wd);
        else
          gg = g + wd * pi;
        m[i] = f(b1) * m[i] + f(1.0 - b1) * gg;
        v[i] = f(b2) * v[i] + f(1.0 - b2) * gg * gg;
        pi = pi - lr * (m[i] / (1.0 - std::pow(b1, t))) /
                      (std::sqrt(v[i] / (1.0 - std::pow(b2, t))) + eps);
      }
      pi = round_to(pf, pi);
    }
    std::size_t first = 0;
    for (std::size_t n : kTensorSizes) {
      for (std::size_t b = 0; b < n; b += 256) {
        quantize_block(&m[first + b], std::min<std::size_t>(256, n - b), false);
        quantize_block(&v[first + b], std::min<std::size_t>(256, n - b), true);
      }
      first += n;
    }
  }
  return p;
}

}  // namespace

TEST_CASE("q8 state: every build and 1, 2 and 4 threads equal the scalar reference",
          "[precision][q8][threads]") {
  const auto runs = isa_thread_runs();
  for (const Case& c : kMain)
    for (const Layout& layout : every_layout()) {
      INFO(c.name << ", " << layout.name());
      const auto want = run_optimizer(c, layout, Isa::scalar, 1, 4);
      for (bool instructions : storage_checks::bf16_instruction_settings())
        for (const auto& [isa, threads] : runs) {
          const storage_checks::Bf16Instructions use(instructions);
          INFO(isa_name(isa) << ", " << threads << " threads, bf16 instructions " << instructions);
          CHECK(run_optimizer(c, layout, isa, threads, 4) == want);
        }
    }
  const Layout plain{DType::f32, DType::bf16, false, false};
  for (const Case& c : kOthers) {
    INFO(c.name << " " << c.options.items().size());
    const auto want = run_optimizer(c, plain, Isa::scalar, 1, 4);
    for (const auto& [isa, threads] : runs) {
      INFO(isa_name(isa) << ", " << threads << " threads");
      CHECK(run_optimizer(c, plain, isa, threads, 4) == want);
    }
  }
}

// Tolerance. The transcription quantizes where the kernel does, in double, so the two differ by
// float32's arithmetic (about 2^-20 of lr and of the value over 25 steps) except where float32's
// and fp64's states fall on either side of a code boundary (with 16-bit gradients, whose
// products have few significant bits, float32's rounding lands exactly on a boundary often: up
// to 4 % of the elements here): then one code step (1/8 of the value) moves that element's later
// updates by up to about lr / 8 per step (Lion: a sign flips, 2 lr). So: at most 5 % of the
// elements beyond the float32 bound, none beyond 2 lr per step, and the mean error at most
// 0.002 lr per step (measured: at most 0.0005; without quantizing in the transcription, errors
// exceed 2 lr per step).
TEST_CASE("q8 state: the scalar reference follows an fp64 transcription over 25 steps",
          "[precision][q8]") {
  const Layout layouts[] = {{DType::f32, DType::f32, false, false},
                            {DType::f32, DType::bf16, false, false},
                            {DType::bf16, DType::bf16, false, false},
                            {DType::bf16, DType::bf16, true, false}};
  for (const Case& c : kMain)
    for (const Layout& layout : layouts) {
      INFO(c.name << ", " << layout.name());
      auto opt = make_optimizer(c.name, RuntimeOptions{Isa::scalar, 1});
      ParamGroup& g = opt->add_param_group(test_params(), c.options, layout.storage());
      for (int step = 1; step <= kSteps; ++step) {
        write_grads(g, step);
        opt->step();
      }
      const std::vector<float> got = params_of(g);
      const std::vector<double> want = reference(c, layout);
      const double lr = c.options.get("lr");
      const DType pf = layout.master ? DType::f32 : layout.param;
      std::size_t outside = 0;
      double total = 0;
      for (std::size_t i = 0; i < kElements; ++i) {
        const double err = std::fabs(got[i] - want[i]);
        // bf16 parameters: one rounding step of the parameter, carried.
        const double format = pf == DType::f32 ? 0.0 : 4 * std::ldexp(std::fabs(want[i]), -7);
        const double tight = 1e-5 * (std::fabs(want[i]) + lr * kSteps) + format;
        INFO("element " << i << " got " << got[i] << " want " << want[i]);
        REQUIRE(err <= 2 * lr * kSteps + format);
        if (err > tight) ++outside;
        total += err;
      }
      const double mean = total / kElements / (lr * kSteps);
      INFO(outside << " of " << kElements << " outside the float32 bound, mean error " << mean
                   << " lr per step");
      CHECK(outside <= kElements / 20);
      CHECK(mean <= 2e-3);
    }
}

// A NaN (or Inf) gradient makes its element NaN as with fp32 state; the block's scale comes
// from the finite values, so the rest of the block steps as it would without it (within the
// quantization tolerance of the fp32-state run).
TEST_CASE("q8 state: a non-finite gradient spoils only its own element", "[precision][q8]") {
  for (float bad : {NAN, INFINITY}) {
    for (const char* name : {"adamw", "sgd", "lion"}) {
      INFO(name << " gradient " << bad);
      const Case c{name, name == std::string("sgd") ? GroupOptions{{"lr", 1e-2}, {"momentum", 0.9}}
                                                    : GroupOptions{{"lr", 1e-3}}};
      auto q8 = make_optimizer(c.name, RuntimeOptions{best_isa(), 1});
      auto f32 = make_optimizer(c.name, RuntimeOptions{best_isa(), 1});
      ParamGroup& gq = q8->add_param_group(test_params(), c.options, {.state = DType::q8});
      ParamGroup& gf = f32->add_param_group(test_params(), c.options);
      const std::size_t tensor = 2, element = 300;  // in the second block of the 1009 tensor
      for (int step = 1; step <= 6; ++step) {
        for (ParamGroup* g : {&gq, &gf}) {
          write_grads(*g, step);
          if (step == 3) g->grad(tensor).data[element] = bad;
        }
        q8->step();
        f32->step();
      }
      const TensorView pq = gq.param(tensor), pf = gf.param(tensor);
      CHECK(std::isnan(pf.data[element]) == std::isnan(pq.data[element]));
      CHECK(std::isfinite(pf.data[element]) == std::isfinite(pq.data[element]));
      const double lr = c.options.get("lr");
      for (std::size_t k = 256; k < 512; ++k) {
        if (k == element) continue;
        INFO("element " << k);
        REQUIRE(std::isfinite(pq.data[k]));
        CHECK(std::fabs(pq.data[k] - pf.data[k]) <= 6 * 2 * lr);
      }
      // The state codes of the element are NaN or Inf's own; the scale stays finite.
      for (const std::string& s : gq.state_names()) {
        const TensorView v = gq.state(tensor, s);
        CHECK(std::isfinite(v.scales[1]));
        CHECK(v.scales[1] > 0.0f);
      }
    }
  }
}

TEST_CASE("q8 state: what is refused", "[precision][q8]") {
  auto adam = make_optimizer("adam");
  const std::vector<ParamSpec> params = {{"w", {4}, {}}};
  CHECK_THROWS_AS(adam->add_param_group(params, {}, {.param = DType::q8}), std::invalid_argument);
  CHECK_THROWS_AS(adam->add_param_group(params, {}, {.grad = DType::q8}), std::invalid_argument);
  auto lamb = make_optimizer("lamb");
  CHECK_THROWS_AS(lamb->add_param_group(params, {}, {.state = DType::q8}), std::invalid_argument);
  CHECK(parse_dtype("q8") == DType::q8);
  // Tensors start on 256-element blocks; 8 + 4 / 256 bytes of state per element and array.
  ParamGroup& g =
      adam->add_param_group({{"a", {3}, {}}, {"b", {300}, {}}}, {}, {.state = DType::q8});
  CHECK(g.info(1).offset == 256);
  CHECK(g.padded_numel() == 768);
}

// A checkpoint holds q8 state dequantized to fp32; loading quantizes it again, which gives the
// same codes (every code's value quantizes to itself, and a block's largest code keeps its
// scale), so 3 steps, a save through the file format, a load and 2 more steps equal 5 steps,
// bit for bit, for every parameter and gradient type.
TEST_CASE("q8 state: checkpoint resume is bit-exact", "[precision][q8][checkpoint]") {
  for (const Case& c : kMain)
    for (const Layout& layout : every_layout()) {
      INFO(c.name << ", " << layout.name());
      storage_resume::check_resume(
          c.name,
          [&](Optimizer& o) -> ParamGroup& {
            return o.add_param_group(test_params(), c.options, layout.storage());
          },
          write_grads, snapshot);
    }
}

// Loading converts: fp32 (or bf16) state into a q8 optimizer is quantized, q8 state into an
// fp32 one is its dequantized values.
TEST_CASE("q8 state: checkpoints convert between q8 and fp32 or bf16 state",
          "[precision][q8][checkpoint]") {
  for (DType other : {DType::f32, DType::bf16}) {
    INFO(dtype_name(other));
    auto plain = make_optimizer("adamw");
    auto q8 = make_optimizer("adamw");
    ParamGroup& gp = plain->add_param_group(test_params(), {}, {.state = other});
    q8->add_param_group(test_params(), {}, {.state = DType::q8});
    for (int step = 1; step <= 3; ++step) {
      write_grads(gp, step);
      plain->step();
    }
    const OptimizerStateDict saved = state_dict(*plain);
    load_state_dict(*q8, saved);
    const OptimizerStateDict loaded = state_dict(*q8);
    std::size_t nonzero = 0;
    for (std::size_t t = 0; t < saved.param_groups[0].tensors.size(); ++t)
      for (std::size_t a = 0; a < 2; ++a) {
        const StateArray& want = saved.param_groups[0].tensors[t].arrays[a];
        const StateArray& got = loaded.param_groups[0].tensors[t].arrays[a];
        REQUIRE(want.name == got.name);
        const bool non_negative = want.name == "exp_avg_sq";
        for (std::size_t b = 0; b < want.data.size(); b += 256) {
          std::array<float, 256> block{}, back{};
          std::array<std::uint8_t, 256> codes{};
          const std::size_t n = std::min<std::size_t>(256, want.data.size() - b);
          std::copy(want.data.begin() + b, want.data.begin() + b + n, block.begin());
          const float scale =
              detail::quant8_encode_block(block.data(), codes.data(), 256, non_negative);
          detail::quant8_decode_block(codes.data(), scale, back.data(), 256, non_negative);
          for (std::size_t k = 0; k < n; ++k) {
            REQUIRE(bits(got.data[b + k]) == bits(back[k]));
            nonzero += back[k] != 0.0f;
          }
        }
      }
    CHECK(nonzero > kElements);
    // And back: the q8 state loaded into a fresh optimizer of the other dtype holds its values.
    auto again = make_optimizer("adamw");
    again->add_param_group(test_params(), {}, {.state = other});
    load_state_dict(*again, loaded);
    const OptimizerStateDict round = state_dict(*again);
    for (std::size_t t = 0; t < round.param_groups[0].tensors.size(); ++t)
      for (std::size_t a = 0; a < 2; ++a) {
        const auto& want = loaded.param_groups[0].tensors[t].arrays[a].data;
        const auto& got = round.param_groups[0].tensors[t].arrays[a].data;
        for (std::size_t k = 0; k < want.size(); ++k)
          REQUIRE(got[k] == (other == DType::f32
                                 ? want[k]
                                 : detail::f32_from_bf16(detail::bf16_from_f32(want[k]))));
      }
  }
}
