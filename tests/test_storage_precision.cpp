// The elementwise kernels with 16-bit arrays (optim/rule_kernel.hpp: converted through
// run_rule_staged's tiles): SGD with momentum, Adam, AdamW and Lion, with parameters fp32, bf16,
// fp16, bf16 by stochastic rounding, or fp32 master weights writing a bf16 or fp16 copy; gradients
// fp32, bf16 or fp16 (an engine's unpadded buffer); state fp32 or bf16: every combination.
//   - Every build, and every split of the range into kernel calls (what threads and chunks do),
//     equals the scalar reference bit for bit over 25 steps.
//   - The scalar reference follows an fp64 transcription of each algorithm that rounds to the
//     storage formats where the kernel stores (tolerance below).
//   - Stochastic rounding is unbiased (a z-test, false-failure rate below).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "kernels/half.hpp"
#include "kernels/half_convert_check_kernel.hpp"
#include "optim/elementwise_rule.hpp"
#include "simdoptim/simdoptim.hpp"
#include "storage_checks.hpp"
#include "storage_resume.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;
using detail::Storage;
using storage_checks::bits;
using storage_checks::from_bits;
using storage_checks::snapshot;

namespace {

constexpr int kSteps = 25;
constexpr std::size_t kNumel = 1009;   // a prime: a partial last tile and a partial batch
constexpr std::size_t kPadded = 1024;  // the arena's padded length

enum class ParamMode { f32, half, stochastic, master };

struct Layout {
  ParamMode param;
  Storage param_format;  // half, stochastic (bf16), master's copy
  Storage grad;
  Storage state;
  std::string name() const {
    static const char* const kFormat[] = {"f32", "bf16", "f16"};
    static const char* const kMode[] = {"", "", "sr-", "master+"};
    std::string p = param == ParamMode::f32 ? "f32"
                                            : std::string(kMode[static_cast<int>(param)]) +
                                                  kFormat[static_cast<int>(param_format)];
    return "param " + p + ", grad " + kFormat[static_cast<int>(grad)] + ", state " +
           kFormat[static_cast<int>(state)];
  }
};

std::vector<Layout> every_layout() {
  std::vector<Layout> out;
  const std::pair<ParamMode, Storage> params[] = {
      {ParamMode::f32, Storage::f32},     {ParamMode::half, Storage::bf16},
      {ParamMode::half, Storage::f16},    {ParamMode::stochastic, Storage::bf16},
      {ParamMode::master, Storage::bf16}, {ParamMode::master, Storage::f16}};
  for (const auto& [mode, format] : params)
    for (Storage g : {Storage::f32, Storage::bf16, Storage::f16})
      for (Storage s : {Storage::f32, Storage::bf16}) out.push_back({mode, format, g, s});
  return out;
}

struct Case {
  const char* name;
  GroupOptions options;
  const char* states[2];
};

const Case kOptimizers[] = {
    {"sgd", {{"lr", 1e-2}, {"momentum", 0.9}, {"weight_decay", 1e-2}}, {"momentum_buffer"}},
    {"adam", {{"lr", 1e-3}, {"weight_decay", 1e-2}}, {"exp_avg", "exp_avg_sq"}},
    {"adamw", {{"lr", 1e-3}, {"weight_decay", 0.1}}, {"exp_avg", "exp_avg_sq"}},
    {"lion", {{"lr", 1e-4}, {"weight_decay", 0.1}}, {"exp_avg"}},
};

std::size_t state_count(const Case& o) {
  return o.states[1] == nullptr ? 1 : 2;
}

GroupOptions options_of(const Case& o) {
  const auto* r = detail::find_registration(o.name);
  GroupOptions g = detail::defaults_of(r->options);
  for (const auto& [k, v] : o.options.items()) g.set(k, v);
  return g;
}

float widen(Storage s, std::uint16_t h) {
  return s == Storage::bf16 ? detail::f32_from_bf16(h) : detail::f32_from_f16(h);
}
std::uint16_t narrow(Storage s, float x) {
  return s == Storage::bf16 ? detail::bf16_from_f32(x) : detail::f16_from_f32(x);
}

// One array of kPadded elements in a storage format.
class Array {
 public:
  explicit Array(Storage s) : format_(s), buffer_(kPadded, 0) {}
  Storage format() const { return format_; }
  float* f32() { return buffer_.data(); }
  std::uint16_t* u16() { return reinterpret_cast<std::uint16_t*>(buffer_.data()); }
  float get(std::size_t i) const {
    auto* self = const_cast<Array*>(this);
    return format_ == Storage::f32 ? self->f32()[i] : widen(format_, self->u16()[i]);
  }
  void set(std::size_t i, float x) {
    if (format_ == Storage::f32)
      f32()[i] = x;
    else
      u16()[i] = narrow(format_, x);
  }

 private:
  Storage format_;
  detail::AlignedBuffer buffer_;
};

// Values of element i: drawn once for the largest run (kernel runs use the first kNumel).
constexpr std::size_t kMaxElements = 1 + 15 + 17 + 1009 + 33001;

float initial_param(std::size_t i) {
  static const std::vector<float> values = storage_checks::normal_values(kMaxElements, 1);
  return values.at(i);
}

constexpr float kGradScale[] = {1e-3f, 0.1f, 1.0f, 10.0f};

// Gradients of several magnitudes, per (step, element).
float gradient(int step, std::size_t i) {
  static const std::vector<float> values =
      storage_checks::normal_values((kSteps + 1) * kMaxElements, 2);
  return values.at(static_cast<std::size_t>(step) * kMaxElements + i) * kGradScale[i % 4];
}

constexpr std::uint64_t kSeed = 0x5eed;

// Every value a run leaves: parameters (the copy too), states, as bits.
std::vector<std::uint32_t> run(const Case& opt, const Layout& layout, Isa isa, std::size_t piece) {
  const detail::ElementwiseRule& rule = *detail::find_registration(opt.name)->rule;
  const GroupOptions options = options_of(opt);
  const bool half_param = layout.param == ParamMode::half || layout.param == ParamMode::stochastic;
  Array param(half_param ? layout.param_format : Storage::f32);
  Array copy(layout.param_format);
  Array state0(layout.state), state1(layout.state);
  Array* states[] = {&state0, &state1};
  for (std::size_t i = 0; i < kNumel; ++i) param.set(i, initial_param(i));
  // An engine's gradient buffer holds exactly kNumel elements; an arena's kPadded.
  std::vector<std::uint16_t> grad16(kNumel);
  Array grad32(Storage::f32);
  const auto kernel = rule.kernel(isa);
  for (int step = 1; step <= kSteps; ++step) {
    for (std::size_t i = 0; i < kNumel; ++i) {
      if (layout.grad == Storage::f32)
        grad32.f32()[i] = gradient(step, i);
      else
        grad16[i] = narrow(layout.grad, gradient(step, i));
    }
    detail::ElementwiseArgs a;
    rule.prepare(options, {step, step == 1}, {}, a);
    if (half_param) {
      a.param16 = {param.u16(), layout.param_format};
      a.stochastic_rounding = layout.param == ParamMode::stochastic;
      a.rounding_key = detail::rounding_key(kSeed, static_cast<std::uint64_t>(step));
    } else {
      a.param = param.f32();
    }
    if (layout.param == ParamMode::master) a.param_copy = {copy.u16(), layout.param_format};
    if (layout.grad == Storage::f32) {
      a.grad = grad32.f32();
    } else {
      a.grad16 = {grad16.data(), layout.grad};
      a.grad_count = kNumel;
    }
    for (std::size_t k = 0; k < state_count(opt); ++k) {
      if (layout.state == Storage::f32)
        a.state[k] = states[k]->f32();
      else
        a.state16[k] = states[k]->u16();
    }
    a.state16_format = layout.state;
    for (std::size_t b = 0; b < kPadded; b += piece) kernel(a, b, std::min(b + piece, kPadded));
  }
  std::vector<std::uint32_t> out;
  for (std::size_t i = 0; i < kNumel; ++i) {
    out.push_back(bits(param.get(i)));
    if (layout.param == ParamMode::master) {
      out.push_back(bits(copy.get(i)));
      // The copy is the master rounded to nearest-even, exactly.
      REQUIRE(copy.u16()[i] == narrow(layout.param_format, param.get(i)));
    }
    for (std::size_t k = 0; k < state_count(opt); ++k) out.push_back(bits(states[k]->get(i)));
  }
  return out;
}

DType dtype_of(Storage s) {
  return static_cast<DType>(s);
}

// Tensors of several sizes (one element, around a batch, a prime, one spanning three chunks).
const std::size_t kTensorSizes[] = {1, 15, 17, 1009, 33001};

// One tensor of each of kTensorSizes, starting at initial_param's values.
std::vector<ParamSpec> test_params() {
  return storage_checks::params_of_sizes(kTensorSizes, initial_param);
}

// The same steps through the public API: a param group with `layout`'s StorageOptions, several
// tensors, 5 steps on `threads` threads; every parameter (and master weight) and state value.
StorageOptions storage_of(const Layout& layout) {
  StorageOptions storage;
  const bool half_param = layout.param != ParamMode::f32;
  storage.param = half_param ? dtype_of(layout.param_format) : DType::f32;
  storage.master_weights = layout.param == ParamMode::master;
  storage.stochastic_rounding = layout.param == ParamMode::stochastic;
  storage.seed = kSeed;
  storage.grad = dtype_of(layout.grad);
  storage.state = dtype_of(layout.state);
  return storage;
}

// Writes step `step`'s gradients into the group's arena (in its grad dtype).
void write_grads(ParamGroup& g, int step) {
  storage_checks::write_grads(g, [step](std::size_t at) { return gradient(step, at); });
}

std::vector<std::uint32_t> run_optimizer(const Case& c, const Layout& layout, Isa isa,
                                         int threads) {
  auto opt = make_optimizer(c.name, RuntimeOptions{isa, threads});
  ParamGroup& g = opt->add_param_group(test_params(), c.options, storage_of(layout));
  for (int step = 1; step <= 5; ++step) {
    write_grads(g, step);
    opt->step();
  }
  return snapshot(g);
}

// ---- the fp64 transcription ----

// x rounded to nearest-even to a format with `mant` stored mantissa bits whose smallest normal is
// 2^min_exp (no overflow at these magnitudes); fp32 is left unrounded (fp64 is the reference).
double round_to(Storage s, double x) {
  if (s == Storage::f32 || x == 0.0 || !std::isfinite(x)) return x;
  const int mant = s == Storage::bf16 ? 7 : 10, min_exp = s == Storage::bf16 ? -126 : -14;
  int e;
  std::frexp(x, &e);  // |x| in [2^(e-1), 2^e)
  const int q = std::max(e - 1 - mant, min_exp - mant);
  return std::ldexp(std::nearbyint(std::ldexp(x, -q)), q);
}

// Stochastic rounding to bf16 with the kernel's 16 random bits r: up with probability
// (fraction of an ulp) rounded down to a multiple of 2^-16, as adding r below the kept bits does.
double stochastic_to_bf16(double x, std::uint32_t r) {
  if (x == 0.0) return x;
  int e;
  std::frexp(x, &e);
  const int q = std::max(e - 8, -133);
  const double scaled = std::ldexp(std::fabs(x), -q);
  const double down = std::floor(scaled);
  const double frac = std::floor((scaled - down) * 65536.0);
  const double mag = down + ((r & 0xffffU) + frac >= 65536.0 ? 1.0 : 0.0);
  return std::copysign(std::ldexp(mag, q), x);
}

struct Reference {
  std::vector<double> param, copy, s0, s1;
};

Reference reference(const Case& opt, const Layout& layout) {
  const GroupOptions o = options_of(opt);
  const std::string name = opt.name;
  const bool half_param = layout.param == ParamMode::half || layout.param == ParamMode::stochastic;
  const Storage pf = half_param ? layout.param_format : Storage::f32;
  Reference r;
  r.param.resize(kNumel);
  r.copy.resize(kNumel);
  r.s0.assign(kNumel, 0.0);
  r.s1.assign(kNumel, 0.0);
  for (std::size_t i = 0; i < kNumel; ++i) r.param[i] = round_to(pf, initial_param(i));
  const double lr = o.get("lr"), wd = o.get("weight_decay");
  for (int t = 1; t <= kSteps; ++t) {
    const std::uint32_t key = detail::rounding_key(kSeed, static_cast<std::uint64_t>(t));
    for (std::size_t i = 0; i < kNumel; ++i) {
      double p = r.param[i];
      const double g = round_to(layout.grad, static_cast<double>(gradient(t, i)));
      double &m = r.s0[i], &v = r.s1[i];
      if (name == "sgd") {
        const double d = g + wd * p;
        m = t == 1 ? d : o.get("momentum") * m + (1.0 - o.get("dampening")) * d;
        m = round_to(layout.state, m);
        p = p - lr * m;
      } else if (name == "lion") {
        const double b1 = o.get("beta1"), b2 = o.get("beta2");
        p = p * (1.0 - lr * wd);
        const double c = b1 * m + (1.0 - b1) * g;
        p = p - lr * (c > 0 ? 1.0 : c < 0 ? -1.0 : 0.0);
        m = round_to(layout.state, b2 * m + (1.0 - b2) * g);
      } else {
        const double b1 = o.get("beta1"), b2 = o.get("beta2"), eps = o.get("eps");
        double gg = g;
        if (name == "adamw")
          p = p * (1.0 - lr * wd);
        else
          gg = g + wd * p;
        m = b1 * m + (1.0 - b1) * gg;
        v = b2 * v + (1.0 - b2) * gg * gg;
        const double mhat = m / (1.0 - std::pow(b1, t));
        const double vhat = v / (1.0 - std::pow(b2, t));
        p = p - lr * mhat / (std::sqrt(vhat) + eps);
        // The kernel stores the state after computing the update from the unrounded values.
        m = round_to(layout.state, m);
        v = round_to(layout.state, v);
      }
      if (layout.param == ParamMode::stochastic)
        p = stochastic_to_bf16(p, detail::rounding_bits(key, i));
      else
        p = round_to(pf, p);
      r.param[i] = p;
      r.copy[i] = round_to(layout.param_format, p);
    }
  }
  return r;
}

// The spacing of format s at x (fp32: its ulp).
double ulp(Storage s, double x) {
  const int mant = s == Storage::bf16 ? 7 : s == Storage::f16 ? 10 : 23;
  const int min_exp = s == Storage::bf16 ? -126 : s == Storage::f16 ? -14 : -126;
  int e;
  std::frexp(std::max(std::fabs(x), 1e-30), &e);
  return std::ldexp(1.0, std::max(e - 1 - mant, min_exp - mant));
}

}  // namespace

TEST_CASE("16-bit storage: every build and every split equal the scalar reference bit for bit",
          "[kernels][precision]") {
  for (const Case& opt : kOptimizers)
    for (const Layout& layout : every_layout()) {
      INFO(opt.name << ", " << layout.name());
      const auto reference = run(opt, layout, Isa::scalar, kPadded);
      // Pieces of 16 elements (every call smaller than a tile) and of 272 (tiles cut unevenly).
      CHECK(run(opt, layout, Isa::scalar, 16) == reference);
      CHECK(run(opt, layout, Isa::scalar, 272) == reference);
      for (bool instructions : storage_checks::bf16_instruction_settings())
      for (Isa isa : supported_isas()) {
        if (isa == Isa::scalar) continue;
        const storage_checks::Bf16Instructions use(instructions);
        INFO(isa_name(isa) << ", bf16 instructions " << instructions);
        CHECK(run(opt, layout, isa, kPadded) == reference);
        CHECK(run(opt, layout, isa, 272) == reference);
      }
    }
}

// Every build on one thread, and the best build on 2 and 4 (the chunking is the driver's, the
// same for every build; the kernel test above holds every build to every split), against the
// scalar reference on one thread. Kept to these runs so the sanitizer and emulated runs stay
// short.
TEST_CASE("16-bit storage through the optimizer: every build and 1, 2 and 4 threads agree",
          "[precision][threads]") {
  std::vector<std::pair<Isa, int>> runs;
  for (Isa isa : supported_isas())
    if (isa != Isa::scalar) runs.emplace_back(isa, 1);
  for (int threads : thread_counts::up_to_cap({2, 4})) runs.emplace_back(best_isa(), threads);
  for (const Case& c : kOptimizers)
    for (const Layout& layout : every_layout()) {
      INFO(c.name << ", " << layout.name());
      const auto reference = run_optimizer(c, layout, Isa::scalar, 1);
      for (bool instructions : storage_checks::bf16_instruction_settings())
        for (const auto& [isa, threads] : runs) {
          const storage_checks::Bf16Instructions use(instructions);
          INFO(isa_name(isa) << ", " << threads << " threads, bf16 instructions " << instructions);
          CHECK(run_optimizer(c, layout, isa, threads) == reference);
        }
    }
}

// ZeRO-Offload's step: bf16 gradients read from the engine's buffers, fp32 master weights and
// state in the arena, bf16 parameters written into the engine's buffers, in one pass. It must
// equal the same step with the gradients and the copy in the arena.
TEST_CASE("master weights: gradients from and parameters into an engine's 16-bit buffers",
          "[precision][threads]") {
  for (Storage f : {Storage::bf16, Storage::f16})
    for (int threads : thread_counts::up_to_cap({1, 2})) {
      INFO(static_cast<int>(f) << ", " << threads << " threads");
      const StorageOptions storage{.param = dtype_of(f), .master_weights = true};
      auto arena = make_optimizer("adamw", RuntimeOptions{best_isa(), threads});
      auto engine = make_optimizer("adamw", RuntimeOptions{best_isa(), threads});
      const std::vector<ParamSpec> params = test_params();
      ParamGroup& a = arena->add_param_group(
          params, {}, {.param = dtype_of(f), .grad = dtype_of(f), .master_weights = true});
      ParamGroup& e = engine->add_param_group(params, {}, storage);
      // The engine's buffers: one element past each tensor must stay untouched.
      constexpr std::uint16_t kGuard = 0xdead;
      std::vector<std::vector<std::uint16_t>> grads, outs;
      for (std::size_t n : kTensorSizes) {
        grads.emplace_back(n);
        outs.emplace_back(n + 1, kGuard);
      }
      for (int step = 1; step <= 3; ++step) {
        std::vector<const std::uint16_t*> grad_ptrs;
        std::vector<std::uint16_t*> out_ptrs;
        std::size_t at = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
          const TensorView g = a.grad(i);
          for (std::size_t k = 0; k < g.data16.size(); ++k, ++at)
            grads[i][k] = g.data16[k] = narrow(f, gradient(step, at));
          grad_ptrs.push_back(grads[i].data());
          out_ptrs.push_back(outs[i].data());
        }
        arena->step();
        engine->step(StepGrads{
            .external16 = grad_ptrs, .external16_dtype = dtype_of(f), .param_out = out_ptrs});
      }
      for (std::size_t i = 0; i < a.size(); ++i) {
        const TensorView want = a.param(i);
        CHECK(std::equal(want.data16.begin(), want.data16.end(), outs[i].begin()));
        CHECK(outs[i].back() == kGuard);
        const TensorView master_a = a.master_param(i), master_e = e.master_param(i);
        CHECK(std::equal(master_a.data.begin(), master_a.data.end(), master_e.data.begin()));
        // The arena's copy was not written: still the initial values rounded.
        CHECK(e.param(i).data16[0] == narrow(f, params[i].init[0]));
      }
    }
}

TEST_CASE("16-bit storage: what is refused", "[precision]") {
  auto adam = make_optimizer("adam");
  const std::vector<ParamSpec> params = {{"w", {4}, {}}};
  auto refused = [&](StorageOptions s) {
    CHECK_THROWS_AS(adam->add_param_group(params, {}, s), std::invalid_argument);
  };
  refused({.state = DType::f16});
  refused({.master_weights = true});
  refused({.param = DType::f16, .stochastic_rounding = true});
  refused({.param = DType::bf16, .master_weights = true, .stochastic_rounding = true});
  auto lamb = make_optimizer("lamb");
  CHECK_THROWS_AS(lamb->add_param_group(params, {}, {.param = DType::bf16}), std::invalid_argument);
}

// A checkpoint keeps 16-bit arrays widened to fp32 (exactly) and rounds them back when loaded,
// so 3 steps, a save through the file format, a load into a new optimizer and 2 more steps equal
// 5 steps without the checkpoint, bit for bit, for every dtype combination.
TEST_CASE("16-bit storage: checkpoint resume is bit-exact", "[precision][checkpoint]") {
  for (const Case& c : kOptimizers)
    for (const Layout& layout : every_layout()) {
      INFO(c.name << ", " << layout.name());
      storage_resume::check_resume(
          c.name,
          [&](Optimizer& o) -> ParamGroup& {
            return o.add_param_group(test_params(), c.options, storage_of(layout));
          },
          write_grads, snapshot);
    }
}

// Tolerance. The reference rounds to each format where the kernel stores, so the two differ by
// float32's arithmetic (relative 2^-24 per operation, about 8 dependent operations per step, 25
// steps: 2^-16 of the value and of lr) plus, where float32's and fp64's unrounded values fall on
// either side of a rounding boundary (rare), one step of the stored format, which later steps
// carry: at most 4 format steps (ulp) at the largest magnitude the value had. A missing or
// misplaced rounding moves values by about half a format step on every step, which the state arrays
// (compared at the same bound) and the parameters show. Lion's sign flips where beta1 m + (1 -
// beta1) g is within rounding of zero, moving p by 2 lr: at most 1% of its elements may.
TEST_CASE("16-bit storage: the scalar reference follows an fp64 transcription over 25 steps",
          "[kernels][precision]") {
  for (const Case& opt : kOptimizers)
    for (const Layout& layout : every_layout()) {
      INFO(opt.name << ", " << layout.name());
      const auto got = run(opt, layout, Isa::scalar, kPadded);
      const Reference want = reference(opt, layout);
      const bool half_param =
          layout.param == ParamMode::half || layout.param == ParamMode::stochastic;
      const Storage pf = half_param ? layout.param_format : Storage::f32;
      const double lr = options_of(opt).get("lr");
      const std::string name = opt.name;
      const bool master = layout.param == ParamMode::master;
      const bool state16 = layout.state != Storage::f32;
      std::size_t at = 0, outside = 0, worst_at = 0;
      double worst = 0, worst_expected = 0;
      float worst_value = 0;
      // scale: the typical size of the value's change per step.
      // peak: the largest magnitude the value had (a format step taken then is carried).
      auto check = [&](float value, double expected, Storage s, double scale, double extra,
                       double peak) {
        const double tol = 4 * ulp(s, std::max(std::fabs(expected), peak) + scale) +
                           std::ldexp(std::fabs(expected) + kSteps * scale, -16) + extra;
        const double err = std::fabs(static_cast<double>(value) - expected);
        if (!(err <= tol)) {
          ++outside;
          if (err / tol > worst) {
            worst = err / tol;
            worst_at = at - 1;  // `at` moved past the value as the argument was read
            worst_value = value;
            worst_expected = expected;
          }
        }
      };
      for (std::size_t i = 0; i < kNumel; ++i) {
        const double g = kGradScale[i % 4];
        const double m_scale = name == "sgd" ? 10 * g : g;
        const double update = name == "sgd" ? lr * m_scale : name == "lion" ? lr : 3 * lr;
        // A state rounding that went the other way changes later updates by a format step of
        // the state, relative (2^-8 for bf16), for about 10 steps (the momentum's memory).
        const double extra = state16 ? 10 * update * std::ldexp(1.0, -7) : 0.0;
        const double peak = std::fabs(initial_param(i)) + kSteps * update;
        // L2 weight decay (SGD, Adam) feeds p into the state: a parameter 4 format steps off
        // moves m by wd times that, summed over the momentum's memory (10 steps), and v by
        // 2 |g + wd p| times m's share.
        const double l2 = name == "sgd" || name == "adam" ? options_of(opt).get("weight_decay") : 0;
        const double dp = 4 * ulp(pf, peak);
        const double m_extra = 10 * l2 * dp;
        const double v_extra = 2 * (g + l2 * peak) * l2 * dp;
        check(from_bits(got[at++]), want.param[i], pf, update, extra, peak);
        if (master)
          check(from_bits(got[at++]), want.copy[i], layout.param_format, update, extra, peak);
        check(from_bits(got[at++]), want.s0[i], layout.state, m_scale, m_extra, 0.0);
        if (name == "adam" || name == "adamw")
          check(from_bits(got[at++]), want.s1[i], layout.state, g * g, v_extra, 0.0);
      }
      INFO(outside << " values outside the tolerance; worst " << worst << " x it, value #"
                   << worst_at << ": " << worst_value << ", reference " << worst_expected);
      if (std::string(opt.name) == "lion")
        CHECK(outside <= kNumel / 100);
      else
        CHECK(outside == 0);
    }
}

// Each x below lies a fraction f of the way between neighbouring bf16 values; N elements
// rounded stochastically (each its own random bits) round up a Binomial(N, f') number of times,
// f' = f truncated to 2^-16. The z-score of the count is checked against 5.5: a false failure
// has probability about 4e-8 per value, below 1e-6 for the whole test.
TEST_CASE("stochastic rounding to bf16 is unbiased and the same in every build",
          "[kernels][precision]") {
  constexpr std::size_t n = std::size_t{1} << 18;
  detail::AlignedBuffer in(n, 0), out(n / 2, 1);
  for (double f : {0.5, 0.25, 0.01, 0.999, 1.0 / 3}) {
    for (float base : {1.0f, -3.0f, 1e-40f, 65504.0f}) {
      const double lo = detail::f32_from_bf16(detail::bf16_from_f32(base));
      const double next = detail::f32_from_bf16(
          static_cast<std::uint16_t>(detail::bf16_from_f32(static_cast<float>(lo)) + 1));
      const auto x = static_cast<float>(lo + f * (next - lo));
      std::fill(in.data(), in.data() + n, x);
      std::vector<std::uint16_t> reference;
      for (Isa isa : supported_isas()) {
        detail::half_convert_kernel(isa)(
            {detail::HalfConversion::to_bf16_stochastic, in.data(), out.data(), 0x1234567U}, 0, n);
        const auto* h = reinterpret_cast<const std::uint16_t*>(out.data());
        if (isa == Isa::scalar) {
          reference.assign(h, h + n);
          continue;
        }
        INFO(isa_name(isa));
        CHECK(std::equal(reference.begin(), reference.end(), h));
      }
      std::size_t ups = 0;
      for (std::uint16_t h : reference) {
        const double v = detail::f32_from_bf16(h);
        REQUIRE((v == lo || v == next));
        ups += v == next;
      }
      const double xf = static_cast<double>(x);
      const double p = std::floor((xf - lo) / (next - lo) * 65536.0) / 65536.0;
      const double count = static_cast<double>(n);
      const double z = (static_cast<double>(ups) - count * p) / std::sqrt(count * p * (1 - p));
      INFO("x " << x << ": " << ups << " of " << n << " up, p " << p << ", z " << z);
      CHECK(std::fabs(z) < 5.5);
    }
  }
}

// With master weights the average reads them: it equals the one an fp32 group keeps, bit for
// bit. (16-bit averages and averages of 16-bit parameters: tests/test_averaging.cpp.)
TEST_CASE("16-bit storage with weight averaging", "[precision][averaging]") {
  const std::vector<ParamSpec> params = {{"w", {37}, {}}};
  AveragingOptions ema;
  ema.mode = AveragingOptions::Mode::ema;
  ema.decay = 0.75;

  auto fp32 = make_optimizer("adamw");
  auto master = make_optimizer("adamw");
  ParamGroup& a = fp32->add_param_group(params, {});
  ParamGroup& b =
      master->add_param_group(params, {}, {.param = DType::bf16, .master_weights = true});
  for (std::size_t k = 0; k < 37; ++k) {
    const float p = 0.25f + static_cast<float>(k) / 8.0f;
    a.param(0).data[k] = p;
    b.master_param(0).data[k] = p;
  }
  fp32->set_averaging(ema);
  master->set_averaging(ema);
  for (int step = 0; step < 4; ++step) {
    for (std::size_t k = 0; k < 37; ++k) {
      const float g = std::sin(static_cast<float>(step * 37 + static_cast<int>(k)));
      a.grad(0).data[k] = g;
      b.grad(0).data[k] = g;
    }
    fp32->step();
    master->step();
  }
  const auto avg_a = fp32->averaged_param("w").data;
  const auto avg_b = master->averaged_param("w").data;
  CHECK(std::equal(avg_a.begin(), avg_a.end(), avg_b.begin(), avg_b.end()));
  CHECK_FALSE(std::equal(avg_a.begin(), avg_a.end(), a.param(0).data.begin()));
}
