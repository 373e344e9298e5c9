// Weight averaging (Optimizer::set_averaging): the fused step on every build and thread count
// against the unfused reference (the scalar step, then torch's and timm's formulas applied by
// this file in float), that reference against an fp64 transcription, and the API around it.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel_checks.hpp"
#include "kernels/half.hpp"
#include "simdoptim/simdoptim.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;
using kernel_checks::bitwise_equal;
using Mode = AveragingOptions::Mode;

namespace {

// Group 0: empty, one element, around the widest batch, a prime; group 1 adds a tensor large
// enough to be cut into chunks for several threads.
const std::vector<std::int64_t> kSizes0 = {0, 1, 15, 16, 17, 1009};
const std::vector<std::int64_t> kSizes1 = {17, 40009, 3};
constexpr int kSteps = 10;

struct Case {
  std::string label;
  AveragingOptions averaging;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  AveragingOptions ema;
  ema.mode = Mode::ema;
  ema.decay = 0.9;
  out.push_back({"ema", ema});
  AveragingOptions warm = ema;
  warm.decay = 0.999;
  warm.warmup = true;
  warm.start = 3;
  warm.every = 2;
  out.push_back({"ema warmup start=3 every=2", warm});
  AveragingOptions sched = ema;
  sched.decay_schedule = [](std::int64_t step) { return 0.5 + 0.04 * static_cast<double>(step); };
  out.push_back({"ema decay_schedule", sched});
  AveragingOptions swa;
  swa.mode = Mode::swa;
  swa.start = 2;
  out.push_back({"swa start=2", swa});
  swa.start = 1;
  swa.every = 3;
  out.push_back({"swa every=3", swa});
  AveragingOptions look;
  look.mode = Mode::lookahead;
  look.alpha = 0.3;
  look.k = 3;
  out.push_back({"lookahead alpha=0.3 k=3", look});
  return out;
}

struct Optim {
  std::string name;
  GroupOptions options;
};

const std::vector<Optim> kOptimizers = {
    {"adam", {}},
    {"adamw", {{"amsgrad", 1.0}}},
    {"sgd", {{"lr", 0.05}, {"momentum", 0.9}}},
    {"nadam", {}},
    // several passes: always averaged in a pass of its own
    {"lamb", {}},
    {"lars", {}},
    {"adafactor", {}},
};

std::unique_ptr<Optimizer> make(const Optim& o, RuntimeOptions runtime,
                                const StorageOptions& storage = {}) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  auto opt = make_optimizer(o.name, runtime);
  for (const auto* sizes : {&kSizes0, &kSizes1}) {
    std::vector<ParamSpec> specs;
    for (std::int64_t n : *sizes) {
      ParamSpec s{
          "p" + std::to_string(opt->param_groups().size()) + "_" + std::to_string(specs.size()),
          {n},
          {}};
      s.init.resize(static_cast<std::size_t>(n));
      for (float& x : s.init) x = normal(rng);
      specs.push_back(std::move(s));
    }
    opt->add_param_group(std::move(specs), o.options, storage);
  }
  return opt;
}

// Writes step s's gradients: tensor 3 of group 0 has none every third step, and group 1 none at
// step 5 (a group the step leaves alone, which the averages still take).
void write_grads(Optimizer& opt, int s, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  opt.zero_grad();
  for (std::size_t g = 0; g < opt.param_groups().size(); ++g) {
    ParamGroup& group = opt.param_groups()[g];
    for (std::size_t i = 0; i < group.size(); ++i) {
      if ((g == 0 && i == 3 && s % 3 == 1) || (g == 1 && s == 5)) continue;
      for (float& x : group.grad(i).data) x = normal(rng);
    }
  }
}

// Steps from..to-1, the gradients seeded by `from`.
void run(Optimizer& o, int from, int to) {
  std::mt19937 rng(static_cast<unsigned>(from));
  for (int s = from; s < to; ++s) {
    write_grads(o, s, rng);
    o.step();
  }
}

// Parameters and averages, padding included, and the update count.
std::vector<float> snapshot(Optimizer& opt) {
  std::vector<float> out;
  for (ParamGroup& g : opt.param_groups()) {
    out.insert(out.end(), g.param_arena().begin(), g.param_arena().end());
    out.insert(out.end(), g.averaged_arena(), g.averaged_arena() + g.padded_numel());
  }
  out.push_back(static_cast<float>(opt.n_averaged()));
  return out;
}

std::vector<float> snapshot_params(Optimizer& opt) {
  std::vector<float> out;
  for (ParamGroup& g : opt.param_groups())
    out.insert(out.end(), g.param_arena().begin(), g.param_arena().end());
  return out;
}

std::vector<float> fused_run(const Optim& o, const Case& c, RuntimeOptions runtime,
                             bool fused = true) {
  auto opt = make(o, runtime);
  AveragingOptions a = c.averaging;
  a.fused = fused;
  opt->set_averaging(a);
  std::mt19937 rng(11);
  for (int s = 0; s < kSteps; ++s) {
    write_grads(*opt, s, rng);
    opt->step();
  }
  return snapshot(*opt);
}

// Whether EMA or SWA updates at `step`, and the EMA decay there after `n` updates (as
// docs/averaging.md states them).
bool averages_at(const AveragingOptions& o, std::int64_t step) {
  return step >= o.start && (step - o.start) % o.every == 0;
}

double ema_decay(const AveragingOptions& o, std::int64_t step, std::int64_t n) {
  if (o.decay_schedule) return o.decay_schedule(step);
  if (!o.warmup) return o.decay;
  return std::min(o.decay, (1.0 + static_cast<double>(n)) / (10.0 + static_cast<double>(n)));
}

// The unfused reference: the scalar step without averaging, then the averaging formulas here,
// in float, one rounding per torch tensor op, weights computed in double as the host does.
struct Reference {
  AveragingOptions o;
  std::vector<std::vector<float>> avg;  // one padded arena per group
  std::int64_t step = 0, n = 0;

  explicit Reference(const AveragingOptions& options, Optimizer& opt) : o(options) {
    for (ParamGroup& g : opt.param_groups())
      avg.emplace_back(g.param_arena().begin(), g.param_arena().end());
  }

  void after_step(Optimizer& opt) {
    ++step;
    if (o.mode == Mode::lookahead) {
      if (step % o.k != 0) return;
      const auto alpha = static_cast<float>(o.alpha);
      for (std::size_t g = 0; g < avg.size(); ++g) {
        ParamGroup& group = opt.param_groups()[g];
        for (std::size_t i = 0; i < group.size(); ++i) {
          if (!group.has_grad(i)) continue;
          const std::span<float> p = group.param(i).data;
          float* a = avg[g].data() + group.info(i).offset;
          for (std::size_t k = 0; k < p.size(); ++k) {
            a[k] = a[k] + alpha * (p[k] - a[k]);
            p[k] = a[k];
          }
        }
      }
      return;
    }
    if (!averages_at(o, step)) return;
    const double decay = ema_decay(o, step, n);
    const auto d = static_cast<float>(decay), one_minus_d = static_cast<float>(1.0 - decay);
    const auto count = static_cast<float>(n + 1);
    for (std::size_t g = 0; g < avg.size(); ++g) {
      const std::span<float> p = opt.param_groups()[g].param_arena();
      for (std::size_t k = 0; k < p.size(); ++k) {
        float& a = avg[g][k];
        if (o.mode == Mode::ema)
          a = a * d + one_minus_d * p[k];
        else
          a = n == 0 ? p[k] : a + (p[k] - a) / count;
      }
    }
    ++n;
  }
};

std::vector<float> reference_run(const Optim& o, const Case& c) {
  auto opt = make(o, {Isa::scalar, 1});
  Reference ref(c.averaging, *opt);
  std::mt19937 rng(11);
  for (int s = 0; s < kSteps; ++s) {
    write_grads(*opt, s, rng);
    opt->step();
    ref.after_step(*opt);
  }
  std::vector<float> out;
  for (std::size_t g = 0; g < ref.avg.size(); ++g) {
    const auto p = opt->param_groups()[g].param_arena();
    out.insert(out.end(), p.begin(), p.end());
    out.insert(out.end(), ref.avg[g].begin(), ref.avg[g].end());
  }
  out.push_back(static_cast<float>(ref.n));
  return out;
}

}  // namespace

TEST_CASE(
    "averaging in the step equals the step then torch's formulas, every build and thread count",
    "[averaging]") {
  for (const Optim& o : kOptimizers)
    for (const Case& c : cases()) {
      const std::vector<float> reference = reference_run(o, c);
      for (Isa isa : supported_isas()) {
        const bool best = isa == supported_isas().back();
        for (int threads : best ? thread_counts::up_to_cap({1, 2, 3}) : std::vector<int>{1}) {
          INFO(o.name << " " << c.label << " isa=" << isa_name(isa) << " threads=" << threads);
          CHECK(bitwise_equal(fused_run(o, c, {isa, threads}), reference));
        }
        INFO(o.name << " " << c.label << " isa=" << isa_name(isa) << " unfused");
        CHECK(bitwise_equal(fused_run(o, c, {isa, 1}, false), reference));
      }
    }
}

TEST_CASE("averaging moves the average and keeps its padding zero", "[averaging]") {
  for (const Case& c : cases()) {
    INFO(c.label);
    auto opt = make(kOptimizers.front(), {});
    opt->set_averaging(c.averaging);
    const std::vector<float> start(
        opt->param_groups()[1].averaged_arena(),
        opt->param_groups()[1].averaged_arena() + opt->param_groups()[1].padded_numel());
    std::mt19937 rng(3);
    for (int s = 0; s < kSteps; ++s) {
      write_grads(*opt, s, rng);
      opt->step();
    }
    ParamGroup& g = opt->param_groups()[1];
    std::size_t moved = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      const TensorInfo& t = g.info(i);
      const std::size_t end = i + 1 < g.size() ? g.info(i + 1).offset : g.padded_numel();
      for (std::size_t k = t.offset; k < t.offset + t.numel; ++k)
        moved += g.averaged_arena()[k] != start[k];
      for (std::size_t k = t.offset + t.numel; k < end; ++k) REQUIRE(g.averaged_arena()[k] == 0.0f);
    }
    CHECK(moved > 40000);
  }
}

// The reference against fp64: EMA e = d e + (1 - d) p and the running mean of the parameters
// the float run produced. Each float update rounds three times (at most 1.5 ulp of max|p|), and
// an EMA error decays by d per update, so it stays below 1.5 ulp / (1 - d) = 15 ulp for d = 0.9;
// the running mean's error grows at most by 2 ulp per update (20 ulp after 10). Tolerance: 32
// ulp of max|p| (about 4e-6 relative).
TEST_CASE("the averages match an fp64 transcription of ModelEmaV2 and AveragedModel",
          "[averaging]") {
  for (const Case& c : cases()) {
    if (c.averaging.mode == Mode::lookahead) continue;
    INFO(c.label);
    auto opt = make(kOptimizers.front(), {Isa::scalar, 1});
    opt->set_averaging(c.averaging);
    ParamGroup& g = opt->param_groups()[1];
    std::vector<double> avg(g.param_arena().begin(), g.param_arena().end());
    double max_abs = 0;
    std::int64_t n = 0;
    std::mt19937 rng(5);
    for (int s = 1; s <= kSteps; ++s) {
      write_grads(*opt, s - 1, rng);
      opt->step();
      const AveragingOptions& o = c.averaging;
      if (!averages_at(o, s)) continue;
      const double d = ema_decay(o, s, n);
      for (std::size_t k = 0; k < avg.size(); ++k) {
        const double p = g.param_arena()[k];
        max_abs = std::max(max_abs, std::fabs(p));
        if (o.mode == Mode::ema)
          avg[k] = d * avg[k] + (1.0 - d) * p;
        else
          avg[k] = n == 0 ? p : avg[k] + (p - avg[k]) / static_cast<double>(n + 1);
      }
      ++n;
    }
    REQUIRE(opt->n_averaged() == n);
    const double tol = 32 * std::ldexp(max_abs, -24);
    double worst = 0;
    for (std::size_t k = 0; k < avg.size(); ++k)
      worst = std::max(worst, std::fabs(g.averaged_arena()[k] - avg[k]));
    CHECK(worst <= tol);
    CHECK(worst > 0.0);  // the comparison is between two computations, not one copied
  }
}

TEST_CASE("swap_averaged_params exchanges in place and back", "[averaging]") {
  auto opt = make(kOptimizers.front(), {});
  AveragingOptions a;
  a.mode = Mode::ema;
  a.decay = 0.5;
  opt->set_averaging(a);
  std::mt19937 rng(1);
  for (int s = 0; s < 3; ++s) {
    write_grads(*opt, s, rng);
    opt->step();
  }
  const TensorView p = opt->param("p1_1");
  const std::vector<float> params(p.data.begin(), p.data.end());
  const TensorView avg = opt->averaged_param("p1_1");
  const std::vector<float> averaged(avg.data.begin(), avg.data.end());
  REQUIRE(params != averaged);
  opt->swap_averaged_params();
  CHECK(std::equal(p.data.begin(), p.data.end(), averaged.begin()));
  CHECK(std::equal(avg.data.begin(), avg.data.end(), params.begin()));
  opt->swap_averaged_params();
  CHECK(std::equal(p.data.begin(), p.data.end(), params.begin()));
}

TEST_CASE("averaging options are checked and the counts follow the steps", "[averaging]") {
  auto opt = make(kOptimizers.front(), {});
  AveragingOptions bad;
  bad.mode = Mode::ema;
  bad.decay = 1.5;
  CHECK_THROWS_AS(opt->set_averaging(bad), std::invalid_argument);
  bad.decay = 0.9;
  bad.every = 0;
  CHECK_THROWS_AS(opt->set_averaging(bad), std::invalid_argument);
  bad.every = 1;
  bad.k = 0;
  CHECK_THROWS_AS(opt->set_averaging(bad), std::invalid_argument);
  CHECK_THROWS_AS(opt->set_averaging_decay(-0.1), std::invalid_argument);
  CHECK_THROWS_AS(opt->swap_averaged_params(), std::logic_error);
  CHECK_THROWS_AS(opt->averaged_param("p0_1"), std::out_of_range);
  AveragingOptions ema;
  ema.mode = Mode::ema;
  CHECK_THROWS_AS(make_optimizer("lbfgs")->set_averaging(ema), std::invalid_argument);

  AveragingOptions swa;
  swa.mode = Mode::swa;
  swa.start = 2;
  opt->set_averaging(swa);
  opt->set_skip_if_nonfinite(true);
  std::mt19937 rng(2);
  write_grads(*opt, 0, rng);
  opt->step();
  CHECK(opt->averaging_step() == 1);
  CHECK(opt->n_averaged() == 0);
  opt->param_groups()[0].grad(1).data[0] = NAN;
  opt->step();  // skipped: counts nothing
  CHECK(opt->last_step_skipped());
  CHECK(opt->averaging_step() == 1);
  write_grads(*opt, 1, rng);
  opt->step();
  CHECK(opt->n_averaged() == 1);
  // The first update copies the parameters.
  const TensorView p = opt->param("p1_1");
  const TensorView a = opt->averaged_param("p1_1");
  CHECK(std::equal(p.data.begin(), p.data.end(), a.data.begin()));
}

TEST_CASE("checkpoints keep the averages and counts; files without them stay version 1",
          "[averaging]") {
  AveragingOptions a;
  a.mode = Mode::swa;
  a.start = 2;
  auto opt = make(kOptimizers.front(), {});
  opt->set_averaging(a);
  run(*opt, 0, 4);
  const std::vector<std::byte> bytes = encode_checkpoint(state_dict(*opt));
  std::uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  CHECK(version == 2);
  const OptimizerStateDict decoded = decode_checkpoint(bytes);
  REQUIRE(decoded.averaging.has_value());
  CHECK(decoded.averaging->n_averaged == 3);

  // Not averaging: refused, nothing changed.
  auto plain = make(kOptimizers.front(), {});
  const std::vector<float> before = snapshot_params(*plain);
  CHECK_THROWS_AS(load_state_dict(*plain, decoded), CheckpointError);
  CHECK(snapshot_params(*plain) == before);

  auto resumed = make(kOptimizers.front(), {});
  resumed->set_averaging(a);
  load_state_dict(*resumed, decoded);
  CHECK(resumed->n_averaged() == 3);
  CHECK(resumed->averaging_step() == 4);
  run(*opt, 4, 7);
  run(*resumed, 4, 7);
  CHECK(bitwise_equal(snapshot(*resumed), snapshot(*opt)));

  auto off = make(kOptimizers.front(), {});
  run(*off, 0, 2);
  const std::vector<std::byte> v1 = encode_checkpoint(state_dict(*off));
  std::memcpy(&version, v1.data() + 8, 4);
  CHECK(version == 1);
  CHECK_FALSE(decode_checkpoint(v1).averaging.has_value());
}

// torch 1.13 (tools/gen_golden_averaging.py): Adam's step itself differs from torch by about an
// ulp per step (test_torch_sgd_adam.cpp says why), and the averages inherit that difference; the
// tolerance is that test's for Adam, 5e-6 * (|torch| + lr).
TEST_CASE("the averages match torch's AveragedModel and timm's formulas run by torch 1.13",
          "[averaging]") {
  std::ifstream file(std::string(SIMDOPTIM_TEST_DATA_DIR) + "/averaging/averaging.golden");
  REQUIRE(file);
  std::string word, label;
  std::getline(file, word);  // the comment
  file >> word >> word;
  REQUIRE(word == "1");
  auto read_floats = [&](const char* what) {
    std::size_t n = 0;
    file >> word >> n;
    REQUIRE(word == what);
    std::vector<float> out(n);
    for (float& x : out) {
      file >> word;
      const auto bits = static_cast<std::uint32_t>(std::stoul(word, nullptr, 16));
      std::memcpy(&x, &bits, sizeof x);
    }
    return out;
  };
  int cases_seen = 0;
  while (file >> word >> label) {
    REQUIRE(word == "case");
    const std::vector<float> want_param = read_floats("param");
    const std::vector<float> want_average = read_floats("average");
    AveragingOptions a;
    a.mode = label == "swa" ? Mode::swa : label == "lookahead" ? Mode::lookahead : Mode::ema;
    a.start = label == "swa" ? 3 : 1;
    a.decay = label == "ema" ? 0.8 : 0.99;
    a.warmup = label == "ema_warmup";
    a.alpha = 0.5;
    a.k = 3;
    for (Isa isa : supported_isas()) {
      INFO(label << " isa=" << isa_name(isa));
      const std::size_t n = want_param.size();
      ParamSpec spec{"w", {static_cast<std::int64_t>(n)}, {}};
      for (std::size_t i = 0; i < n; ++i)
        spec.init.push_back(static_cast<float>(static_cast<int>((i * 5) % 11) - 5) / 4.0f);
      auto opt = make_optimizer("adam", {isa, 1});
      opt->add_param_group({spec}, {{"lr", 1e-2}});
      opt->set_averaging(a);
      for (int t = 1; t <= 10; ++t) {
        const std::span<float> g = opt->grad("w").data;
        for (std::size_t i = 0; i < n; ++i)
          g[i] = static_cast<float>(
                     static_cast<int>((i * 7 + static_cast<std::size_t>(t) * 3) % 17) - 8) /
                 8.0f;
        opt->step();
      }
      const TensorView p = opt->param("w"), avg = opt->averaged_param("w");
      double worst = 0;
      for (std::size_t i = 0; i < n; ++i) {
        worst = std::max(worst,
                         std::fabs(p.data[i] - want_param[i]) / (std::fabs(want_param[i]) + 1e-2));
        worst = std::max(
            worst, std::fabs(avg.data[i] - want_average[i]) / (std::fabs(want_average[i]) + 1e-2));
      }
      CHECK(worst <= 5e-6);
    }
    ++cases_seen;
  }
  CHECK(cases_seen == 4);
}

// ---- averages stored in 16 bits, and averages of 16-bit parameters ----

namespace {

struct StoredCase {
  std::string label;
  StorageOptions storage;
  DType averaged;
};

std::vector<StoredCase> stored_cases() {
  return {
      {"f32 params, bf16 average", {}, DType::bf16},
      {"f32 params, f16 average", {}, DType::f16},
      {"bf16 params, f32 average", {.param = DType::bf16}, DType::f32},
      {"bf16 params, bf16 average", {.param = DType::bf16}, DType::bf16},
      {"f16 params, f16 average", {.param = DType::f16}, DType::f16},
      {"bf16 params with stochastic rounding, f32 average",
       {.param = DType::bf16, .stochastic_rounding = true, .seed = 3},
       DType::f32},
      {"f16 params with master weights, f32 average (fused)",
       {.param = DType::f16, .master_weights = true},
       DType::f32},
      {"bf16 params with master weights, bf16 average",
       {.param = DType::bf16, .master_weights = true},
       DType::bf16},
  };
}

float widen(DType d, std::uint16_t h) {
  return d == DType::bf16 ? detail::f32_from_bf16(h) : detail::f32_from_f16(h);
}
std::uint16_t narrow(DType d, float x) {
  return d == DType::bf16 ? detail::bf16_from_f32(x) : detail::f16_from_f32(x);
}

// Every stored value as a float: fp32 values, 16-bit ones as their bit patterns.
void append_stored(std::vector<float>& out, const float* arena, DType d, std::size_t n) {
  if (d == DType::f32) {
    out.insert(out.end(), arena, arena + n);
    return;
  }
  const auto* bits = reinterpret_cast<const std::uint16_t*>(arena);
  for (std::size_t k = 0; k < n; ++k) out.push_back(static_cast<float>(bits[k]));
}

std::vector<float> stored_snapshot(Optimizer& opt,
                                   std::span<const std::vector<float>> averages = {},
                                   std::int64_t n = -1) {
  std::vector<float> out;
  for (std::size_t g = 0; g < opt.param_groups().size(); ++g) {
    ParamGroup& group = opt.param_groups()[g];
    const std::size_t size = group.padded_numel();
    if (!group.param_arena().empty())
      append_stored(out, group.param_arena().data(), DType::f32, size);
    if (!group.param16_arena().empty())
      append_stored(out, reinterpret_cast<float*>(group.param16_arena().data()),
                    group.param_dtype(), size);
    if (averages.empty())
      append_stored(out, group.averaged_arena(), group.averaged_dtype(), size);
    else
      out.insert(out.end(), averages[g].begin(), averages[g].end());
  }
  out.push_back(static_cast<float>(n < 0 ? opt.n_averaged() : n));
  return out;
}

// The unfused reference for stored formats: after the scalar step, the averaging formulas in
// float on the parameters as stored (master weights, fp32, or 16-bit widened), the average
// widened from and rounded back to its format; Lookahead writes the parameters back rounded to
// nearest-even (and the master weights' copy from them).
std::vector<float> stored_reference(const Optim& o, const AveragingOptions& a,
                                    const StoredCase& c) {
  auto opt = make(o, {Isa::scalar, 1}, c.storage);
  std::vector<std::vector<float>> avg;  // values, rounded to the average's format
  auto value = [&](ParamGroup& g, std::size_t k) {
    return g.param_arena().empty() ? widen(g.param_dtype(), g.param16_arena()[k])
                                   : g.param_arena()[k];
  };
  auto round_avg = [&](float x) {
    return c.averaged == DType::f32 ? x : widen(c.averaged, narrow(c.averaged, x));
  };
  for (ParamGroup& g : opt->param_groups()) {
    avg.emplace_back(g.padded_numel());
    for (std::size_t k = 0; k < g.padded_numel(); ++k) avg.back()[k] = round_avg(value(g, k));
  }
  std::mt19937 rng(11);
  std::int64_t n = 0;
  for (int s = 1; s <= kSteps; ++s) {
    write_grads(*opt, s - 1, rng);
    opt->step();
    for (std::size_t gi = 0; gi < avg.size(); ++gi) {
      ParamGroup& g = opt->param_groups()[gi];
      if (a.mode == Mode::lookahead) {
        if (s % a.k != 0) continue;
        for (std::size_t i = 0; i < g.size(); ++i) {
          if (!g.has_grad(i)) continue;
          for (std::size_t k = g.info(i).offset; k < g.info(i).offset + g.info(i).numel; ++k) {
            const float next =
                round_avg(avg[gi][k] + static_cast<float>(a.alpha) * (value(g, k) - avg[gi][k]));
            avg[gi][k] = next;
            if (!g.param_arena().empty()) g.param_arena()[k] = next;
            if (!g.param16_arena().empty()) g.param16_arena()[k] = narrow(g.param_dtype(), next);
          }
        }
        continue;
      }
      if (!averages_at(a, s)) continue;
      const auto d = static_cast<float>(a.decay), one_minus_d = static_cast<float>(1.0 - a.decay);
      for (std::size_t k = 0; k < g.padded_numel(); ++k) {
        const float p = value(g, k);
        float& x = avg[gi][k];
        if (a.mode == Mode::ema)
          x = round_avg(x * d + one_minus_d * p);
        else
          x = round_avg(n == 0 ? p : x + (p - x) / static_cast<float>(n + 1));
      }
    }
    if (a.mode != Mode::lookahead && averages_at(a, s)) ++n;
  }
  std::vector<std::vector<float>> stored;
  for (const auto& v : avg) {
    stored.emplace_back();
    if (c.averaged == DType::f32) {
      stored.back() = v;
    } else {
      for (float x : v) stored.back().push_back(static_cast<float>(narrow(c.averaged, x)));
    }
  }
  return stored_snapshot(*opt, stored, n);
}

std::vector<AveragingOptions> stored_modes() {
  AveragingOptions ema;
  ema.mode = Mode::ema;
  ema.decay = 0.9;
  AveragingOptions swa;
  swa.mode = Mode::swa;
  swa.start = 2;
  AveragingOptions look;
  look.mode = Mode::lookahead;
  look.alpha = 0.3;
  look.k = 3;
  return {ema, swa, look};
}

}  // namespace

TEST_CASE("16-bit averages and averages of 16-bit parameters equal the unfused reference",
          "[averaging][precision]") {
  const Optim& adamw = kOptimizers[1];
  for (const StoredCase& c : stored_cases())
    for (AveragingOptions a : stored_modes()) {
      a.dtype = c.averaged;
      INFO(c.label << " mode " << static_cast<int>(a.mode));
      if (a.mode == Mode::lookahead && c.storage.stochastic_rounding) {
        auto opt = make(adamw, {}, c.storage);
        CHECK_THROWS_WITH(opt->set_averaging(a), Catch::Contains("stochastic rounding"));
        continue;
      }
      const std::vector<float> reference = stored_reference(adamw, a, c);
      for (Isa isa : supported_isas()) {
        const bool best = isa == supported_isas().back();
        for (int threads : best ? thread_counts::up_to_cap({1, 2, 3}) : std::vector<int>{1})
          for (bool fused : {true, false}) {
            INFO("isa=" << isa_name(isa) << " threads=" << threads << " fused=" << fused);
            auto opt = make(adamw, {isa, threads}, c.storage);
            AveragingOptions b = a;
            b.fused = fused;
            opt->set_averaging(b);
            std::mt19937 rng(11);
            for (int s = 0; s < kSteps; ++s) {
              write_grads(*opt, s, rng);
              opt->step();
            }
            CHECK(bitwise_equal(stored_snapshot(*opt), reference));
          }
      }
    }
}

TEST_CASE("16-bit averages: views, swaps without rounding, and checkpoints",
          "[averaging][precision]") {
  const Optim& adamw = kOptimizers[1];
  AveragingOptions ema;
  ema.mode = Mode::ema;
  ema.decay = 0.5;

  // bf16 parameters, bf16 average: exchanged bit for bit, and back.
  ema.dtype = DType::bf16;
  auto half = make(adamw, {}, {.param = DType::bf16});
  half->set_averaging(ema);
  run(*half, 0, 3);
  const TensorView v = half->averaged_param("p1_1");
  CHECK(v.dtype == DType::bf16);
  CHECK(v.data16.size() == 40009);
  const std::vector<std::uint16_t> p_before(half->param_groups()[1].param16_arena().begin(),
                                            half->param_groups()[1].param16_arena().end());
  const std::vector<std::uint16_t> a_before(v.data16.begin(), v.data16.end());
  CHECK(p_before != std::vector<std::uint16_t>(p_before.size(), 0));
  half->swap_averaged_params();
  const TensorView p1 = half->param_groups()[1].param(1);
  CHECK(std::equal(p1.data16.begin(), p1.data16.end(), a_before.begin()));
  half->swap_averaged_params();
  CHECK(std::equal(half->param_groups()[1].param16_arena().begin(),
                   half->param_groups()[1].param16_arena().end(), p_before.begin()));

  // Master weights, fp32 average: the 16-bit copy follows the master weights.
  ema.dtype = DType::f32;
  auto master = make(adamw, {}, {.param = DType::f16, .master_weights = true});
  master->set_averaging(ema);
  run(*master, 0, 3);
  ParamGroup& mg = master->param_groups()[1];
  const std::vector<float> avg(mg.averaged_arena(), mg.averaged_arena() + mg.padded_numel());
  const std::vector<std::uint16_t> copy_before(mg.param16_arena().begin(),
                                               mg.param16_arena().end());
  master->swap_averaged_params();
  for (std::size_t k = 0; k < avg.size(); k += 97) {
    CHECK(mg.param_arena()[k] == avg[k]);
    CHECK(mg.param16_arena()[k] == narrow(DType::f16, avg[k]));
  }
  master->swap_averaged_params();
  CHECK(std::equal(mg.param16_arena().begin(), mg.param16_arena().end(), copy_before.begin()));

  // bf16 parameters, fp32 average: no lossless exchange; refused, nothing changed.
  auto mixed = make(adamw, {}, {.param = DType::bf16});
  mixed->set_averaging(ema);
  run(*mixed, 0, 2);
  const std::vector<float> before = stored_snapshot(*mixed);
  CHECK_THROWS_WITH(mixed->swap_averaged_params(), Catch::Contains("cannot be exchanged"));
  CHECK(bitwise_equal(stored_snapshot(*mixed), before));

  // A bf16 average resumes bit for bit from a checkpoint; its values are saved widened.
  ema.dtype = DType::bf16;
  auto first = make(adamw, {}, {.param = DType::bf16});
  first->set_averaging(ema);
  run(*first, 0, 3);
  const OptimizerStateDict saved = decode_checkpoint(encode_checkpoint(state_dict(*first)));
  auto resumed = make(adamw, {}, {.param = DType::bf16});
  resumed->set_averaging(ema);
  load_state_dict(*resumed, saved);
  run(*first, 3, 6);
  run(*resumed, 3, 6);
  CHECK(bitwise_equal(stored_snapshot(*resumed), stored_snapshot(*first)));

  AveragingOptions bad = ema;
  bad.dtype = static_cast<DType>(99);
  CHECK_THROWS_AS(first->set_averaging(bad), std::invalid_argument);
}

// timm's ModelEmaV3.get_decay and its update, transcribed in fp64. The average after the
// update_after_step + 1 first steps is the parameters exactly (decay 0); then each float update
// is within 1.5 ulp of the fp64 one, as the ModelEmaV2 test argues: tolerance 32 ulp of max|p|.
TEST_CASE("ModelEmaV3's decay matches an fp64 transcription of timm's", "[averaging]") {
  for (bool warmup : {false, true}) {
    INFO("warmup " << warmup);
    AveragingOptions a;
    a.mode = Mode::ema;
    a.decay = 0.95;
    a.warmup = warmup;
    a.v3 = {.enabled = true, .update_after_step = 2, .gamma = 1.5, .power = 0.75, .min_decay = 0.2};
    auto opt = make(kOptimizers.front(), {Isa::scalar, 1});
    opt->set_averaging(a);
    ParamGroup& g = opt->param_groups()[1];
    std::vector<double> avg(g.param_arena().begin(), g.param_arena().end());
    double max_abs = 0;
    std::mt19937 rng(5);
    for (int s = 1; s <= kSteps; ++s) {
      write_grads(*opt, s - 1, rng);
      opt->step();
      const auto t = static_cast<double>(std::max(0, s - 2 - 1));
      double d = 0.0;
      if (t > 0) {
        d = a.decay;
        if (warmup) d = std::max(std::min(1.0 - std::pow(1.0 + t / 1.5, -0.75), a.decay), 0.2);
      }
      for (std::size_t k = 0; k < avg.size(); ++k) {
        const double p = g.param_arena()[k];
        max_abs = std::max(max_abs, std::fabs(p));
        avg[k] = d * avg[k] + (1.0 - d) * p;
      }
      if (s <= 3)
        CHECK(std::equal(g.param_arena().begin(), g.param_arena().end(), g.averaged_arena()));
    }
    const double tol = 32 * std::ldexp(max_abs, -24);
    double worst = 0;
    for (std::size_t k = 0; k < avg.size(); ++k)
      worst = std::max(worst, std::fabs(g.averaged_arena()[k] - avg[k]));
    CHECK(worst <= tol);
    CHECK(worst > 0.0);
  }
  AveragingOptions bad;
  bad.mode = Mode::ema;
  bad.v3 = {.enabled = true, .power = 0.0};
  auto opt = make(kOptimizers.front(), {});
  CHECK_THROWS_WITH(opt->set_averaging(bad), Catch::Contains("power"));
}
