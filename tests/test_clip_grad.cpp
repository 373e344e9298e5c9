// Gradient clipping against torch 1.13 (tools/gen_golden_clip.py), its determinism on every
// instruction set and thread count, and the skip_if_nonfinite step mode.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "simdoptim/checkpoint.hpp"
#include "simdoptim/clip_grad.hpp"
#include "simdoptim/simdoptim.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

float from_hex(const std::string& s) {
  const auto bits = static_cast<std::uint32_t>(std::stoul(s, nullptr, 16));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

struct GoldenTensor {
  std::string name;
  bool present = false;
  std::vector<float> grad;
};

struct GoldenCase {
  bool norm = true;
  double max_norm = 0, norm_type = 0, clip_value = 0;
  float total = 0;
  std::map<std::string, std::vector<float>> grads;
};

struct Golden {
  std::vector<GoldenTensor> tensors;
  std::vector<GoldenCase> cases;
};

Golden read_golden() {
  std::ifstream file(std::string(SIMDOPTIM_TEST_DATA_DIR) + "/clip/clip_golden.txt");
  REQUIRE(file);
  Golden g;
  std::string line;
  std::getline(file, line);
  REQUIRE(line == "simdoptim-clip-golden 1");
  while (std::getline(file, line)) {
    std::istringstream in(line);
    std::string kind, word;
    in >> kind;
    if (kind == "tensor") {
      GoldenTensor t;
      std::size_t n;
      int present;
      in >> t.name >> n >> present;
      t.present = present == 1;
      while (in >> word) t.grad.push_back(from_hex(word));
      REQUIRE(t.grad.size() == n);
      g.tensors.push_back(std::move(t));
    } else if (kind == "norm") {
      GoldenCase c;
      in >> c.max_norm >> word;
      c.norm_type = word == "inf" ? kInf : std::stod(word);
      in >> word;
      c.total = from_hex(word);
      g.cases.push_back(std::move(c));
    } else if (kind == "value") {
      GoldenCase c;
      c.norm = false;
      in >> c.clip_value;
      g.cases.push_back(std::move(c));
    } else if (kind == "grad") {
      std::string name;
      in >> name;
      auto& v = g.cases.back().grads[name];
      while (in >> word) v.push_back(from_hex(word));
    }
  }
  return g;
}

std::unique_ptr<SGD> golden_optimizer(const Golden& g, RuntimeOptions rt = {}) {
  auto opt = std::make_unique<SGD>(SGDOptions{}, rt);
  std::vector<ParamSpec> specs;
  for (const auto& t : g.tensors)
    specs.push_back({t.name, {static_cast<std::int64_t>(t.grad.size())}, {}});
  opt->add_param_group(std::move(specs));
  for (const auto& t : g.tensors) {
    if (!t.present) continue;
    auto grad = opt->grad(t.name).data;
    std::copy(t.grad.begin(), t.grad.end(), grad.begin());
  }
  return opt;
}

// Two groups of random gradients, sizes around the alignment and across reduction chunks.
std::unique_ptr<Adam> random_optimizer(RuntimeOptions rt) {
  auto opt = std::make_unique<Adam>(AdamOptions{}, rt);
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int group = 0; group < 2; ++group) {
    std::vector<ParamSpec> specs;
    for (std::int64_t n : {1, 15, 17, 1025, 65537, 200003})
      specs.push_back({"g" + std::to_string(group) + "_" + std::to_string(n), {n}, {}});
    opt->add_param_group(std::move(specs));
  }
  for (auto& group : opt->param_groups())
    for (std::size_t i = 0; i < group.size(); ++i) {
      if (i == 2) continue;  // absent
      for (float& x : group.grad(i).data) x = normal(rng);
    }
  return opt;
}

std::vector<std::vector<float>> grad_arenas(Optimizer& opt) {
  std::vector<std::vector<float>> out;
  for (auto& g : opt.param_groups()) out.emplace_back(g.grad_arena().begin(), g.grad_arena().end());
  return out;
}

bool same_bits(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].size() != b[i].size() ||
        std::memcmp(a[i].data(), b[i].data(), a[i].size() * sizeof(float)) != 0)
      return false;
  return true;
}

}  // namespace

TEST_CASE("clip_grad_norm_ and clip_grad_value_ match torch 1.13", "[clip]") {
  const Golden golden = read_golden();
  REQUIRE(golden.cases.size() == 9);
  for (const GoldenCase& c : golden.cases) {
    INFO((c.norm ? "norm max_norm=" : "value clip=")
         << (c.norm ? c.max_norm : c.clip_value) << " norm_type=" << c.norm_type);
    auto opt = golden_optimizer(golden, {Isa::scalar, 1});
    if (c.norm) {
      const double total = clip_grad_norm_(*opt, c.max_norm, c.norm_type);
      // torch sums float32 norms in float32; we sum in double: a few float32 ulps apart for
      // p = 2 (1e-6 relative), exact for inf, and a looser 1e-5 for torch's pow-based norms.
      const double tol = c.norm_type == 2.0 ? 1e-6 : (std::isinf(c.norm_type) ? 0.0 : 1e-5);
      CHECK(total == Approx(c.total).epsilon(tol));
      CHECK(static_cast<float>(total) == static_cast<float>(total));  // a float32 value
    } else {
      clip_grad_value_(*opt, c.clip_value);
    }
    for (const auto& t : golden.tensors) {
      INFO("tensor " << t.name);
      const auto got = opt->param_groups()[0].grad_arena();
      const auto& info = opt->param_groups()[0].info(opt->param_groups()[0].find(t.name));
      if (!t.present) {
        CHECK(!opt->param_groups()[0].has_grad(opt->param_groups()[0].find(t.name)));
        continue;
      }
      const auto& want = c.grads.at(t.name);
      for (std::size_t i = 0; i < want.size(); ++i) {
        // The clip coefficient follows the total norm's last bits: 1e-6 relative.
        const float g = got[info.offset + i];
        if (g != want[i]) REQUIRE(g == Approx(want[i]).epsilon(1e-6));
      }
    }
  }
}

TEST_CASE("clipping gives the same bits on every instruction set and thread count", "[clip]") {
  struct Op {
    const char* name;
    void (*run)(Optimizer&, double&);
  };
  const Op ops[] = {
      {"norm2", [](Optimizer& o, double& t) { t = clip_grad_norm_(o, 10.0); }},
      {"norm_inf", [](Optimizer& o, double& t) { t = clip_grad_norm_(o, 0.5, kInf); }},
      {"norm_group",
       [](Optimizer& o, double& t) { t = clip_grad_norm_(o, o.param_groups()[1], 3.0); }},
      {"norm3", [](Optimizer& o, double& t) { t = clip_grad_norm_(o, 1.0, 3.0); }},
      {"value", [](Optimizer& o, double& t) { clip_grad_value_(o, 0.25), t = 0; }},
  };
  for (const Op& op : ops) {
    auto ref = random_optimizer({Isa::scalar, 1});
    double ref_total = 0;
    op.run(*ref, ref_total);
    const auto ref_grads = grad_arenas(*ref);
    for (Isa isa : supported_isas())
      for (int threads : thread_counts::up_to_cap({1, 2, 4})) {
        INFO(op.name << " isa=" << isa_name(isa) << " threads=" << threads);
        auto opt = random_optimizer({isa, threads});
        double total = 0;
        op.run(*opt, total);
        CHECK(std::memcmp(&total, &ref_total, sizeof total) == 0);
        CHECK(same_bits(grad_arenas(*opt), ref_grads));
      }
  }
}

TEST_CASE("clipping follows torch's edge cases", "[clip]") {
  auto opt = random_optimizer({});
  auto& g0 = opt->param_groups()[0];
  SECTION("absent gradients stay absent and padding stays zero") {
    clip_grad_norm_(*opt, 1e-3);
    clip_grad_value_(*opt, -1.0);  // lo > hi: every value becomes hi = -1, as torch
    CHECK(!g0.has_grad(2));
    CHECK(g0.grad(0).data[0] == -1.0f);
    const auto arena = g0.grad_arena();
    for (std::size_t i = 0; i < g0.size(); ++i) {
      const auto& t = g0.info(i);
      const std::size_t end = i + 1 < g0.size() ? g0.info(i + 1).offset : g0.padded_numel();
      for (std::size_t j = t.offset + t.numel; j < end; ++j) REQUIRE(arena[j] == 0.0f);
    }
  }
  SECTION("no gradient at all: total 0, nothing changes") {
    opt->zero_grad();
    CHECK(clip_grad_norm_(*opt, 1.0) == 0.0);
  }
  SECTION("a coefficient of 1 changes nothing") {
    const auto before = grad_arenas(*opt);
    const double total = clip_grad_norm_(*opt, 1e9);
    CHECK(total > 0);
    CHECK(same_bits(grad_arenas(*opt), before));
  }
  SECTION("non-finite gradients") {
    g0.grad(3).data[7] = kNaN;
    const auto before = grad_arenas(*opt);
    CHECK_THROWS_WITH(clip_grad_norm_(*opt, 1.0, 2.0, true), Catch::Contains("non-finite"));
    CHECK(same_bits(grad_arenas(*opt), before));
    CHECK(std::isnan(clip_grad_norm_(*opt, 1.0, kInf)));
    CHECK(std::isnan(g0.grad(0).data[0]));                  // torch: every gradient becomes NaN
    CHECK(g0.grad_arena()[g0.info(0).offset + 1] == 0.0f);  // padding is still zero
  }
  SECTION("bad arguments") {
    CHECK_THROWS_AS(clip_grad_norm_(*opt, 1.0, 0.0), std::invalid_argument);
    CHECK_THROWS_AS(clip_grad_norm_(*opt, 1.0, std::nan("")), std::invalid_argument);
    CHECK_THROWS_AS(clip_grad_value_(*opt, std::nan("")), std::invalid_argument);
    auto other = random_optimizer({});
    CHECK_THROWS_AS(clip_grad_norm_(*opt, other->param_groups()[0], 1.0), std::invalid_argument);
  }
}

// torch 1.13: torch.tensor([0., -0., 1., -1.] * 16).clamp_(min=-c, max=c), for c = 0 and -0
// (std::min(std::max(x, lo), hi): a tie between signed zeros keeps x).
TEST_CASE("clip_grad_value_ treats signed zeros as torch", "[clip]") {
  const float in[4] = {0.0f, -0.0f, 1.0f, -1.0f};
  struct Case {
    double clip;
    float out[4];
  };
  const Case cases[] = {{0.0, {0.0f, -0.0f, 0.0f, -0.0f}}, {-0.0, {0.0f, -0.0f, -0.0f, 0.0f}}};
  for (const Case& c : cases)
    for (Isa isa : supported_isas()) {
      INFO("clip " << c.clip << " " << isa_name(isa));
      auto opt = make_optimizer("sgd", {isa, 1});
      opt->add_param_group({{"w", {64}, {}}});
      const TensorView v = opt->param_groups()[0].grad(0);
      for (std::size_t k = 0; k < 64; ++k) v.data[k] = in[k % 4];
      clip_grad_value_(*opt, c.clip);
      for (std::size_t k = 0; k < 64; ++k)
        REQUIRE(std::memcmp(&v.data[k], &c.out[k % 4], sizeof(float)) == 0);
    }
}

TEST_CASE("skip_if_nonfinite leaves parameters and state untouched on a bad gradient",
          "[clip][nonfinite]") {
  for (Isa isa : supported_isas())
    for (int threads : thread_counts::up_to_cap({1, 2})) {
      INFO("isa=" << isa_name(isa) << " threads=" << threads);
      auto opt = random_optimizer({isa, threads});
      opt->set_skip_if_nonfinite(true);
      opt->step();
      CHECK(!opt->last_step_skipped());
      const auto before = encode_checkpoint(state_dict(*opt));
      for (float bad : {kNaN, std::numeric_limits<float>::infinity(),
                        -std::numeric_limits<float>::infinity()}) {
        opt->param_groups()[1].grad(5).data[200002] = bad;  // the last element of the last tensor
        opt->step();
        CHECK(opt->last_step_skipped());
        CHECK(encode_checkpoint(state_dict(*opt)) == before);
        opt->param_groups()[1].grad(5).data[200002] = 1.0f;
      }
      opt->step();
      CHECK(!opt->last_step_skipped());
      CHECK(encode_checkpoint(state_dict(*opt)) != before);
    }
}

TEST_CASE("skip_if_nonfinite reuses clip_grad_norm_'s finite norm", "[clip][nonfinite]") {
  auto opt = random_optimizer({});
  opt->set_skip_if_nonfinite(true);
  auto& g = opt->param_groups()[0];
  // A NaN written after clipping is not seen: step() trusts the clip's record (documented).
  clip_grad_norm_(*opt, 1.0);
  g.grad(0).data[0] = kNaN;
  opt->step();
  CHECK(!opt->last_step_skipped());
  // The record lasts one step: the next one checks again.
  opt->step();
  CHECK(opt->last_step_skipped());
  // A non-finite norm is not recorded, so the step checks and skips.
  CHECK(std::isnan(clip_grad_norm_(*opt, 1.0)));
  opt->step();
  CHECK(opt->last_step_skipped());
  // zero_grad forgets the record.
  opt->zero_grad();
  g.grad(1).data[0] = 1.0f;
  clip_grad_norm_(*opt, 1.0);
  opt->zero_grad(false);
  g.grad(1).data[0] = kNaN;
  opt->step();
  CHECK(opt->last_step_skipped());
  // Off by default: a NaN gradient goes through, as torch.
  auto plain = random_optimizer({});
  plain->param_groups()[0].grad(0).data[0] = kNaN;
  plain->step();
  CHECK(!plain->last_step_skipped());
  CHECK(std::isnan(plain->param_groups()[0].param(0).data[0]));
}
