// Replays the torch 1.13 golden trajectories of tests/data/optim (written by
// tools/gen_golden_optim.py) through SGD, Adam and AdamW on the scalar reference and on every SIMD
// build, and compares the parameters after every step and the final state against torch.
#include <algorithm>
#include <bit>
#include <catch2/catch.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simdoptim/simdoptim.hpp"

namespace {

using simdoptim::Isa;

// Tolerance against torch: |ours - torch| <= k * (|torch| + scale), where scale is the group's
// lr for parameters (one update is O(lr), so a parameter crossing zero is held to a small part of
// an update, not to a few ulp of zero) and the array's largest magnitude for state arrays.
//
// Why not bit for bit: torch 1.13's AVX2 CPU kernels fuse multiply-adds (vec::fmadd in add and
// add_ with alpha: weight decay, the momentum buffer, exp_avg, p -= lr * d; and wherever the
// compiler contracts a + b * c), and torch divides sqrt(v) by sqrt(bias_correction2) where we
// multiply by its reciprocal; our kernels round every operation (-ffp-contract=off) in one order
// on every instruction set. So each step differs by about an ulp of its intermediates, and the
// difference is carried forward through p, the momentum buffer and the moments for 30 steps.
//
// k is about 5-10x the largest error observed on this machine (print it with
// SIMDOPTIM_GOLDEN_VERBOSE=1). SGD needs more: with momentum 0.9 the buffer integrates about ten
// gradients and parameters travel through values of several units, so a parameter near zero
// carries the absolute rounding error of the larger values it passed through (max seen 3.7e-6
// against 5.5e-7 for Adam/AdamW, whose per-step update is bounded by lr).
double tolerance_factor(std::string_view optimizer) {
  return optimizer == "sgd" ? 2e-5 : 5e-6;
}

// The whitespace-separated tokens of a golden file, '#' lines skipped.
class Tokens {
 public:
  explicit Tokens(std::string path) : path_(std::move(path)) {
    std::ifstream file(path_);
    if (!file) throw std::runtime_error("cannot open " + path_);
    std::ostringstream text;
    text << file.rdbuf();
    text_ = text.str();
    std::string_view rest = text_;
    bool line_start = true;
    while (!rest.empty()) {
      const char c = rest.front();
      if (line_start && c == '#') {
        const auto end = rest.find('\n');
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
      } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        line_start = c == '\n';
        rest.remove_prefix(1);
      } else {
        const auto end = std::min(rest.find_first_of(" \t\r\n"), rest.size());
        tokens_.push_back(rest.substr(0, end));
        rest.remove_prefix(end);
        line_start = false;
      }
    }
  }

  std::string_view peek() const { return pos_ < tokens_.size() ? tokens_[pos_] : ""; }

  std::string_view next() {
    if (pos_ >= tokens_.size()) fail("unexpected end of file");
    return tokens_[pos_++];
  }

  void expect(std::string_view word) {
    if (next() != word) fail("expected '" + std::string(word) + "'");
  }
  void expect(std::size_t number) { expect(std::to_string(number)); }

  std::int64_t integer() { return parse<std::int64_t>(10); }
  std::size_t count() {
    const auto n = integer();
    if (n < 0) fail("expected a count");
    return static_cast<std::size_t>(n);
  }
  double real() { return parse<double>(); }

  // `n` float32 values written as 8-hex-digit bit patterns.
  std::vector<float> floats(std::size_t n) {
    std::vector<float> out(n);
    for (auto& x : out) x = std::bit_cast<float>(parse<std::uint32_t>(16));
    return out;
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::runtime_error(path_ + ": token " + std::to_string(pos_) + " ('" +
                             std::string(pos_ > 0 ? tokens_[pos_ - 1] : "") + "'): " + what);
  }

 private:
  template <typename T, typename... Base>
  T parse(Base... base) {
    const auto token = next();
    T value{};
    const auto [end, ec] =
        std::from_chars(token.data(), token.data() + token.size(), value, base...);
    if (ec != std::errc{} || end != token.data() + token.size()) fail("not a number");
    return value;
  }

  std::string path_;
  std::string text_;
  std::vector<std::string_view> tokens_;
  std::size_t pos_ = 0;
};

struct GoldenTensor {
  std::size_t group = 0;
  std::string name;
  simdoptim::Shape shape;
  std::size_t numel = 1;
};

struct GoldenState {
  std::int64_t step = -1;  // -1: torch keeps no step count (SGD)
  std::vector<std::pair<std::string, std::vector<float>>> arrays;
};

struct GoldenCase {
  std::string name;
  std::vector<simdoptim::GroupOptions> options;         // per group
  std::vector<std::vector<std::vector<float>>> params;  // [step][tensor], after the step
  std::vector<GoldenState> state;                       // [tensor], after the last step
};

struct Golden {
  std::string optimizer;
  std::size_t steps = 0;
  std::size_t groups = 0;
  std::vector<GoldenTensor> tensors;
  std::vector<std::vector<float>> init;                               // [tensor]
  std::vector<std::vector<std::optional<std::vector<float>>>> grads;  // [step][tensor]
  std::vector<GoldenCase> cases;
};

// Reads the steps x tensors records "<keyword> <step> <name> ...", calling read(step, tensor)
// for the rest of each.
template <typename Read>
void per_step_records(Tokens& in, const Golden& g, std::string_view keyword, Read&& read) {
  for (std::size_t s = 0; s < g.steps; ++s) {
    for (const auto& t : g.tensors) {
      in.expect(keyword);
      in.expect(s);
      in.expect(t.name);
      read(s, t);
    }
  }
}

Golden load_golden(const std::string& path) {
  Tokens in(path);
  Golden g;
  in.expect("simdoptim-golden");
  in.expect("1");
  in.expect("optimizer");
  g.optimizer = in.next();
  in.expect("steps");
  g.steps = in.count();
  in.expect("tensors");
  g.tensors.resize(in.count());
  for (auto& t : g.tensors) {
    in.expect("tensor");
    t.group = in.count();
    if (t.group != g.groups && t.group + 1 != g.groups) in.fail("groups out of order");
    g.groups = t.group + 1;
    t.name = in.next();
    t.shape.resize(in.count());
    for (auto& d : t.shape) {
      d = in.integer();
      t.numel *= static_cast<std::size_t>(d);
    }
  }
  for (const auto& t : g.tensors) {
    in.expect("init");
    in.expect(t.name);
    g.init.push_back(in.floats(t.numel));
  }
  g.grads.resize(g.steps);
  per_step_records(in, g, "grad", [&](std::size_t s, const GoldenTensor& t) {
    if (in.peek() == "none") {
      in.next();
      g.grads[s].emplace_back(std::nullopt);
    } else {
      g.grads[s].emplace_back(in.floats(t.numel));
    }
  });
  in.expect("cases");
  g.cases.resize(in.count());
  for (auto& c : g.cases) {
    in.expect("case");
    c.name = in.next();
    for (std::size_t group = 0; group < g.groups; ++group) {
      in.expect("options");
      in.expect(group);
      auto& options = c.options.emplace_back();
      for (auto k = in.count(); k > 0; --k) {
        const std::string key(in.next());
        options.set(key, in.real());
      }
    }
    c.params.resize(g.steps);
    per_step_records(in, g, "param", [&](std::size_t s, const GoldenTensor& t) {
      c.params[s].push_back(in.floats(t.numel));
    });
    for (const auto& t : g.tensors) {
      in.expect("state");
      in.expect(t.name);
      auto& st = c.state.emplace_back();
      st.step = in.integer();
      for (auto a = in.count(); a > 0; --a) {
        std::string array(in.next());
        st.arrays.emplace_back(std::move(array), in.floats(t.numel));
      }
    }
  }
  if (!in.peek().empty()) in.fail("trailing data");
  return g;
}

std::unique_ptr<simdoptim::Optimizer> make_optimizer(std::string_view kind, Isa isa) {
  const simdoptim::RuntimeOptions runtime{.isa = isa};
  if (kind == "sgd") return std::make_unique<simdoptim::SGD>(simdoptim::SGDOptions{}, runtime);
  if (kind == "adam") return std::make_unique<simdoptim::Adam>(simdoptim::AdamOptions{}, runtime);
  if (kind == "adamw") {
    return std::make_unique<simdoptim::AdamW>(simdoptim::adamw_defaults(), runtime);
  }
  throw std::invalid_argument("unknown optimizer in golden file: " + std::string(kind));
}

// The worst value of a comparison, as a fraction of its tolerance.
class Worst {
 public:
  explicit Worst(double factor) : factor_(factor) {}

  // Folds the element-wise errors of `ours` against `torch` into the worst seen so far.
  void compare(std::span<const float> ours, std::span<const float> torch, double scale,
               const std::string& what) {
    for (std::size_t i = 0; i < torch.size(); ++i) {
      const double ref = torch[i];
      const double err = std::abs(static_cast<double>(ours[i]) - ref);
      const double rel = err / (std::abs(ref) + scale);
      // A NaN or infinity where torch has a number fails the `<=`: infinitely wrong.
      const double ratio = rel <= 1e300 ? rel / factor_ : HUGE_VAL;
      if (ratio > ratio_) {
        ratio_ = ratio;
        rel_error_ = rel;
        std::ostringstream text;
        text.precision(9);
        text << what << "[" << i << "]: ours " << ours[i] << ", torch " << torch[i] << ", |diff| "
             << err << ", tolerance " << factor_ * (std::abs(ref) + scale);
        where_ = text.str();
      }
    }
  }
  void merge(const Worst& other) {
    if (other.ratio_ > ratio_) *this = other;
  }

  // The worst |ours - torch| as a fraction of its tolerance: within tolerance when <= 1.
  double ratio() const { return ratio_; }
  // The worst |ours - torch| / (|torch| + scale).
  double rel_error() const { return rel_error_; }
  const std::string& where() const { return where_; }

 private:
  double factor_;
  double ratio_ = 0.0;
  double rel_error_ = 0.0;
  std::string where_;
};

float max_abs(std::span<const float> values) {
  float m = 0.0F;
  for (const float v : values) m = std::max(m, std::abs(v));
  return m;
}

bool same_bits(std::span<const float> a, std::span<const float> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](float x, float y) {
    return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
  });
}

// Parameters after every step, [step][tensor], of one replay.
using Trajectory = std::vector<std::vector<std::vector<float>>>;

// Replays `c` on `isa`: checks every step against torch (folding the errors into `worst`) and
// that a tensor without a gradient was left untouched. Returns the trajectory.
Trajectory replay(const Golden& g, const GoldenCase& c, Isa isa, Worst& worst) {
  const auto opt = make_optimizer(g.optimizer, isa);
  REQUIRE(opt->isa() == isa);
  std::vector<std::vector<simdoptim::ParamSpec>> specs(g.groups);
  std::vector<std::size_t> local(g.tensors.size());
  for (std::size_t t = 0; t < g.tensors.size(); ++t) {
    const auto& info = g.tensors[t];
    local[t] = specs[info.group].size();
    specs[info.group].push_back({info.name, info.shape, g.init[t]});
  }
  for (std::size_t group = 0; group < g.groups; ++group) {
    opt->add_param_group(std::move(specs[group]), c.options[group]);
  }
  auto group_of = [&](std::size_t t) -> simdoptim::ParamGroup& {
    return opt->param_groups()[g.tensors[t].group];
  };

  Trajectory trajectory(g.steps);
  for (std::size_t s = 0; s < g.steps; ++s) {
    opt->zero_grad();
    std::vector<std::vector<float>> before(g.tensors.size());
    std::vector<std::int64_t> steps_before(g.tensors.size());
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
      auto& group = group_of(t);
      const auto& grad = g.grads[s][t];
      if (grad) {
        const auto view = group.grad(local[t]).data;
        std::copy(grad->begin(), grad->end(), view.begin());
      }
      const auto param = group.param(local[t]).data;
      before[t].assign(param.begin(), param.end());
      steps_before[t] = group.step_count(local[t]);
    }
    opt->step();
    for (std::size_t t = 0; t < g.tensors.size(); ++t) {
      auto& group = group_of(t);
      const auto param = group.param(local[t]).data;
      trajectory[s].emplace_back(param.begin(), param.end());
      const std::string what = c.name + " step " + std::to_string(s) + " " + g.tensors[t].name;
      if (!g.grads[s][t]) {
        INFO(what << ": no gradient, so torch skips this tensor");
        CHECK_FALSE(group.has_grad(local[t]));
        CHECK(same_bits(param, before[t]));
        CHECK(group.step_count(local[t]) == steps_before[t]);
      }
      worst.compare(param, c.params[s][t], group.lr(), what);
    }
  }

  for (std::size_t t = 0; t < g.tensors.size(); ++t) {
    auto& group = group_of(t);
    const auto& expected = c.state[t];
    INFO(c.name << " final state of " << g.tensors[t].name);
    if (expected.step >= 0) CHECK(group.step_count(local[t]) == expected.step);
    CHECK(group.has_state(local[t]) == !expected.arrays.empty());
    for (const auto& [name, values] : expected.arrays) {
      const auto ours = group.state(local[t], name).data;
      worst.compare(ours, values, max_abs(values), c.name + " state " + name);
    }
  }
  return trajectory;
}

const char* const kGoldenFiles[] = {"sgd", "adam", "adamw"};

std::string golden_path(std::string_view optimizer) {
  return std::string(SIMDOPTIM_TEST_DATA_DIR) + "/optim/" + std::string(optimizer) + ".golden";
}

bool verbose() {
  return std::getenv("SIMDOPTIM_GOLDEN_VERBOSE") != nullptr;
}

}  // namespace

TEST_CASE("golden files cover the option grid", "[torch]") {
  for (const char* optimizer : kGoldenFiles) {
    const auto g = load_golden(golden_path(optimizer));
    INFO(optimizer);
    CHECK(g.optimizer == optimizer);
    CHECK(g.steps >= 25);
    CHECK(g.groups == 2);
    CHECK(g.cases.size() == (g.optimizer == "sgd" ? 20U : g.optimizer == "adam" ? 8U : 12U));
    bool some_absent = false;
    for (const auto& step : g.grads) {
      for (const auto& grad : step) some_absent = some_absent || !grad;
    }
    CHECK(some_absent);
  }
}

TEST_CASE("scalar reference and SIMD builds follow torch 1.13 trajectories", "[torch]") {
  const auto isas = simdoptim::supported_isas();
  REQUIRE(isas.front() == Isa::scalar);
  REQUIRE(isas.back() == simdoptim::best_isa());
  for (const char* optimizer : kGoldenFiles) {
    const auto g = load_golden(golden_path(optimizer));
    for (const Isa isa : isas) {
      const double k = tolerance_factor(g.optimizer);
      Worst overall(k);
      for (const auto& c : g.cases) {
        Worst worst(k);
        replay(g, c, isa, worst);
        INFO(simdoptim::isa_name(isa) << ": worst value " << worst.where());
        CHECK(worst.ratio() <= 1.0);
        overall.merge(worst);
      }
      if (verbose()) {
        std::cout << optimizer << " on " << simdoptim::isa_name(isa)
                  << ": max |ours - torch| / (|torch| + scale) = " << overall.rel_error()
                  << " (tolerance " << k << "), at " << overall.where() << "\n";
      }
    }
  }
}

TEST_CASE("every instruction set replays the golden cases bit for bit like scalar", "[torch]") {
  const auto isas = simdoptim::supported_isas();
  for (const char* optimizer : kGoldenFiles) {
    const auto g = load_golden(golden_path(optimizer));
    for (const auto& c : g.cases) {
      Worst ignored(1.0);
      const auto reference = replay(g, c, Isa::scalar, ignored);
      for (const Isa isa : isas) {
        if (isa == Isa::scalar) continue;
        const auto trajectory = replay(g, c, isa, ignored);
        for (std::size_t s = 0; s < g.steps; ++s) {
          for (std::size_t t = 0; t < g.tensors.size(); ++t) {
            INFO(c.name << " on " << simdoptim::isa_name(isa) << ", step " << s << " tensor "
                        << g.tensors[t].name);
            CHECK(same_bits(trajectory[s][t], reference[s][t]));
          }
        }
      }
    }
  }
}
