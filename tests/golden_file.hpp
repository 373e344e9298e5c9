#pragma once
// Reads the golden trajectory files of tools/gen_golden_torch_sgd_adam.py (version 1) and
// tools/gen_golden_torch_elementwise.py (version 2, which adds per-tensor scalar state), and
// compares values against them with a stated tolerance.
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simdoptim/group_options.hpp"
#include "simdoptim/types.hpp"

namespace golden {

// The whitespace-separated tokens of a file, lines starting with '#' skipped.
class Tokens {
 public:
  explicit Tokens(std::string path) : path_(std::move(path)) {
    std::ifstream file(path_);
    if (!file) throw std::runtime_error("cannot open " + path_);
    std::ostringstream text;
    text << file.rdbuf();
    text_ = text.str();
    std::string_view rest = text_;
    while (!rest.empty()) {
      const auto eol = std::min(rest.find('\n'), rest.size());
      std::string_view line = rest.substr(0, eol);
      rest.remove_prefix(std::min(eol + 1, rest.size()));
      if (!line.empty() && line.front() == '#') continue;
      while (!line.empty()) {
        const auto start = line.find_first_not_of(" \t\r");
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        const auto end = std::min(line.find_first_of(" \t\r"), line.size());
        tokens_.push_back(line.substr(0, end));
        line.remove_prefix(end);
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

struct Tensor {
  std::size_t group = 0;
  std::string name;
  simdoptim::Shape shape;
  std::size_t numel = 1;
};

struct State {
  std::int64_t step = -1;  // -1: torch keeps no step count
  std::vector<std::pair<std::string, std::vector<float>>> arrays;
  std::vector<std::pair<std::string, float>> scalars;  // version 2: 0-d state tensors
};

struct Case {
  std::string name;
  std::vector<simdoptim::GroupOptions> options;         // per group
  std::vector<std::vector<std::vector<float>>> params;  // [step][tensor], after the step
  std::vector<State> state;                             // [tensor], after the last step
};

struct File {
  std::string optimizer;
  std::size_t steps = 0;
  std::size_t groups = 0;
  std::vector<Tensor> tensors;
  std::vector<std::vector<float>> init;                               // [tensor]
  std::vector<std::vector<std::optional<std::vector<float>>>> grads;  // [step][tensor]
  std::vector<Case> cases;
};

// Reads the steps x tensors records "<keyword> <step> <name> ...", calling read(step, tensor).
template <typename Read>
void per_step_records(Tokens& in, const File& g, std::string_view keyword, Read&& read) {
  for (std::size_t s = 0; s < g.steps; ++s) {
    for (const auto& t : g.tensors) {
      in.expect(keyword);
      in.expect(s);
      in.expect(t.name);
      read(s, t);
    }
  }
}

inline File load(const std::string& path) {
  Tokens in(path);
  File g;
  in.expect("simdoptim-golden");
  const auto version = in.integer();
  if (version != 1 && version != 2) in.fail("unknown version");
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
  per_step_records(in, g, "grad", [&](std::size_t s, const Tensor& t) {
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
    per_step_records(in, g, "param", [&](std::size_t s, const Tensor& t) {
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
      if (version < 2) continue;
      in.expect("scalars");
      in.expect(t.name);
      for (auto a = in.count(); a > 0; --a) {
        std::string key(in.next());
        st.scalars.emplace_back(std::move(key), in.floats(1).front());
      }
    }
  }
  if (!in.peek().empty()) in.fail("trailing data");
  return g;
}

// The worst |ours - reference| / (|reference| + scale) of a comparison, as a fraction of the
// tolerance factor k: within tolerance when ratio() <= 1.
class Worst {
 public:
  explicit Worst(double factor) : factor_(factor) {}

  void compare(std::span<const float> ours, std::span<const float> ref, double scale,
               const std::string& what) {
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double r = ref[i];
      const double err = std::abs(static_cast<double>(ours[i]) - r);
      const double rel = err / (std::abs(r) + scale);
      // A NaN or infinity where the reference has a number fails the `<=`: infinitely wrong.
      const double ratio = rel <= 1e300 ? rel / factor_ : HUGE_VAL;
      if (ratio > ratio_) {
        ratio_ = ratio;
        rel_error_ = rel;
        std::ostringstream text;
        text.precision(9);
        text << what << "[" << i << "]: ours " << ours[i] << ", reference " << ref[i] << ", |diff| "
             << err << ", tolerance " << factor_ * (std::abs(r) + scale);
        where_ = text.str();
      }
    }
  }
  void merge(const Worst& other) {
    if (other.ratio_ > ratio_) *this = other;
  }
  double ratio() const { return ratio_; }
  double rel_error() const { return rel_error_; }
  const std::string& where() const { return where_; }

 private:
  double factor_;
  double ratio_ = 0.0;
  double rel_error_ = 0.0;
  std::string where_;
};

inline float max_abs(std::span<const float> values) {
  float m = 0.0F;
  for (const float v : values) m = std::max(m, std::abs(v));
  return m;
}

inline bool same_bits(std::span<const float> a, std::span<const float> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](float x, float y) {
    return std::bit_cast<std::uint32_t>(x) == std::bit_cast<std::uint32_t>(y);
  });
}

}  // namespace golden
