// LBFGS against torch 1.13 (tests/data/lbfgs, written by tools/gen_golden_lbfgs.py): the same
// iteration and evaluation counts after every step(closure), on the Rosenbrock function and a
// convex quadratic, with and without the strong-Wolfe line search; and its error paths.
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "golden_file.hpp"
#include "simdoptim/simdoptim.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;

namespace {

struct Step {
  std::int64_t n_iter = 0, func_evals = 0;
  float loss = 0;
  std::vector<float> params;
};

struct Case {
  std::string name, function;
  double lr = 1;
  std::int64_t max_iter = 20;
  bool strong_wolfe = false;
  double tolerance_grad = 1e-7;
  std::vector<float> start;
  std::vector<Step> steps;
};

struct Golden {
  std::size_t n = 0;
  std::vector<float> a, b;
  std::vector<Case> cases;
};

Golden load() {
  golden::Tokens in(std::string(SIMDOPTIM_TEST_DATA_DIR) + "/lbfgs/lbfgs.golden");
  Golden g;
  in.expect("simdoptim-lbfgs");
  in.expect("1");
  in.expect("quadratic");
  g.n = in.count();
  in.expect("A");
  g.a = in.floats(g.n * g.n);
  in.expect("b");
  g.b = in.floats(g.n);
  in.expect("cases");
  g.cases.resize(in.count());
  for (auto& c : g.cases) {
    in.expect("case");
    c.name = in.next();
    c.function = in.next();
    in.expect("lr");
    c.lr = in.real();
    in.expect("max_iter");
    c.max_iter = in.integer();
    in.expect("strong_wolfe");
    c.strong_wolfe = in.integer() != 0;
    in.expect("tolerance_grad");
    c.tolerance_grad = in.real();
    in.expect("steps");
    c.steps.resize(in.count());
    in.expect("start");
    c.start = in.floats(c.function == "rosenbrock" ? 2 : g.n);
    for (std::size_t i = 0; i < c.steps.size(); ++i) {
      auto& s = c.steps[i];
      in.expect("step");
      in.expect(i);
      in.expect("n_iter");
      s.n_iter = in.integer();
      in.expect("func_evals");
      s.func_evals = in.integer();
      in.expect("loss");
      s.loss = in.floats(1).front();
      in.expect("params");
      s.params = in.floats(c.start.size());
    }
  }
  return g;
}

// The generator's closures, operation for operation in float32.
float rosenbrock(std::span<const float> x, std::span<float> grad) {
  const float a = 1.0f - x[0];
  const float b = x[1] - x[0] * x[0];
  grad[0] = -2.0f * a - (400.0f * x[0]) * b;
  grad[1] = 200.0f * b;
  return a * a + 100.0f * (b * b);
}

float quadratic(const Golden& g, std::span<const float> x, std::span<float> grad) {
  std::vector<float> ax(g.n);
  for (std::size_t i = 0; i < g.n; ++i) {
    float s = 0.0f;
    for (std::size_t j = 0; j < g.n; ++j) s = s + g.a[i * g.n + j] * x[j];
    ax[i] = s;
  }
  float xax = 0.0f, bx = 0.0f;
  for (std::size_t i = 0; i < g.n; ++i) {
    xax = xax + x[i] * ax[i];
    bx = bx + g.b[i] * x[i];
  }
  for (std::size_t i = 0; i < g.n; ++i) grad[i] = ax[i] - g.b[i];
  return 0.5f * xax - bx;
}

}  // namespace

TEST_CASE("LBFGS takes torch 1.13's iterations and evaluations to the minimum", "[lbfgs]") {
  const Golden g = load();
  REQUIRE(g.cases.size() == 4);
  for (const Isa isa : supported_isas()) {
    for (const Case& c : g.cases) {
      LbfgsOptions o;
      o.lr = c.lr;
      o.max_iter = c.max_iter;
      o.strong_wolfe = c.strong_wolfe;
      o.tolerance_grad = c.tolerance_grad;
      Lbfgs opt({{"x", {static_cast<std::int64_t>(c.start.size())}, c.start}}, o,
                {isa, thread_counts::capped(2)});
      auto closure = [&]() -> double {
        opt.zero_grad();
        const auto x = opt.param("x").data;
        const auto grad = opt.grad("x").data;
        return c.function == "rosenbrock" ? rosenbrock(x, grad) : quadratic(g, x, grad);
      };
      for (std::size_t i = 0; i < c.steps.size(); ++i) {
        const Step& expected = c.steps[i];
        const double loss = opt.step(closure);
        INFO(c.name << " on " << isa_name(isa) << ", step(closure) call " << i);
        CHECK(opt.n_iter() == expected.n_iter);
        CHECK(opt.func_evals() == expected.func_evals);
        CHECK(static_cast<float>(loss) == Approx(expected.loss).margin(1e-6).epsilon(1e-4));
        const auto x = opt.param("x").data;
        for (std::size_t k = 0; k < x.size(); ++k)
          CHECK(x[k] == Approx(expected.params[k]).margin(1e-4).epsilon(1e-4));
      }
      // The minimum: (1, 1) for Rosenbrock; a gradient within tolerance_grad for the quadratic.
      std::vector<float> grad(c.start.size());
      const auto x = opt.param("x").data;
      INFO(c.name << " on " << isa_name(isa) << " reaches the minimum");
      if (c.function == "rosenbrock") {
        CHECK(std::abs(x[0] - 1.0f) < 1e-3f);
        CHECK(std::abs(x[1] - 1.0f) < 1e-3f);
      } else {
        quadratic(g, x, grad);
        for (float v : grad) CHECK(std::abs(v) <= c.tolerance_grad);
      }
    }
  }
}

TEST_CASE("LBFGS refuses bad options, a second group and a step without closure", "[lbfgs]") {
  auto params = [] { return std::vector<ParamSpec>{{"x", {2}, {1.0f, 2.0f}}}; };
  CHECK_THROWS_AS(Lbfgs(params(), LbfgsOptions{.max_iter = 0}), std::invalid_argument);
  CHECK_THROWS_AS(Lbfgs(params(), LbfgsOptions{.history_size = 0}), std::invalid_argument);
  CHECK_THROWS_AS(Lbfgs(params(), LbfgsOptions{.tolerance_grad = -1.0}), std::invalid_argument);
  CHECK_THROWS_AS(Lbfgs(params(), LbfgsOptions{.lr = -1.0}), std::invalid_argument);
  // Counts are range-checked before any conversion to an integer.
  CHECK_THROWS_AS(Lbfgs(params(), LbfgsOptions{.max_iter = INT64_MAX}), std::invalid_argument);
  for (const char* key : {"max_iter", "max_eval", "history_size"}) {
    INFO(key);
    auto registered = make_optimizer("lbfgs");
    CHECK_THROWS_WITH(registered->add_param_group(params(), {{key, 1e30}}),
                      Catch::Contains("must be an integer in [1, 2^53]"));
  }
  Lbfgs opt(params());
  CHECK(opt.defaults().get("max_eval") == 25.0);  // max_iter * 5 / 4, as torch
  opt.grad("x");
  CHECK_THROWS_AS(opt.step(), std::logic_error);
  CHECK_THROWS_WITH(opt.add_param_group({{"y", {1}, {}}}),
                    Catch::Contains("doesn't support per-parameter options"));
  CHECK(opt.param_groups().size() == 1);
}

TEST_CASE("LBFGS from the registry starts without a group and takes exactly one", "[lbfgs]") {
  const std::unique_ptr<Optimizer> opt = make_optimizer("lbfgs");
  CHECK(opt->param_groups().empty());
  CHECK_THROWS_AS(opt->step([] { return 0.0; }), std::logic_error);
  CHECK_THROWS_AS(opt->add_param_group({{"x", {2}, {}}}, {{"history_size", 0.0}}),
                  std::invalid_argument);
  CHECK(opt->param_groups().empty());
  // As torch's LBFGS(params, max_iter=8): the absent max_eval follows max_iter.
  ParamGroup& g = opt->add_param_group({{"x", {2}, {}}}, {{"max_iter", 8.0}});
  CHECK(g.options().get("max_eval") == 10.0);
  CHECK_THROWS_AS(opt->add_param_group({{"y", {1}, {}}}), std::invalid_argument);
  CHECK(opt->param_groups().size() == 1);

  // A max_eval given, by the override or by the options, stays.
  const std::unique_ptr<Optimizer> given = make_optimizer("lbfgs");
  CHECK(given->add_param_group({{"x", {2}, {}}}, {{"max_iter", 8.0}, {"max_eval", 3.0}})
            .options()
            .get("max_eval") == 3.0);
  Lbfgs fixed(LbfgsOptions{.max_eval = 7});
  CHECK(fixed.add_param_group({{"x", {2}, {}}}, {{"max_iter", 40.0}}).options().get("max_eval") ==
        7.0);
}
