#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "kernel_checks.hpp"
#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;
using Catch::Contains;

namespace {

std::vector<ParamSpec> two_tensors() {
  return {{"w", {2, 3}, {1, 2, 3, 4, 5, 6}}, {"b", {3}, {1, 1, 1}}};
}

void fill_grad(ParamGroup& g, std::size_t i, float value) {
  for (float& x : g.grad(i).data) x = value;
}

std::vector<float> copy(std::span<const float> s) {
  return {s.begin(), s.end()};
}

}  // namespace

TEST_CASE("parameters are registered with names, shapes and initial values", "[api]") {
  Adam opt(two_tensors());
  REQUIRE(opt.param_groups().size() == 1);
  auto& g = opt.param_groups()[0];
  CHECK(g.size() == 2);
  CHECK(g.info(0).name == "w");
  CHECK(g.info(0).shape == Shape{2, 3});
  CHECK(g.info(1).offset % ParamGroup::kTensorAlign == 0);
  CHECK(g.padded_numel() % ParamGroup::kArenaAlign == 0);
  CHECK(copy(g.param(0).data) == std::vector<float>{1, 2, 3, 4, 5, 6});
  CHECK(reinterpret_cast<std::uintptr_t>(g.param(1).data.data()) % 64 == 0);
  CHECK(copy(opt.param("b").data) == std::vector<float>{1, 1, 1});
  CHECK(opt.locate("b") == std::pair<std::size_t, std::size_t>{0, 1});
  CHECK_THROWS_AS(opt.param("nope"), std::out_of_range);
  // A parameter without init starts at zero.
  auto& g2 = opt.add_param_group({{"z", {5}, {}}});
  CHECK(copy(g2.param(0).data) == std::vector<float>(5, 0.0f));
}

TEST_CASE("zero_grad(set_to_none) skips tensors whose gradient is not written", "[api]") {
  AdamW opt(two_tensors(), AdamWOptions{.lr = 0.1, .weight_decay = 0.5});
  auto& g = opt.param_groups()[0];
  fill_grad(g, 0, 1.0f);
  fill_grad(g, 1, 1.0f);
  opt.step();
  opt.zero_grad();
  CHECK_FALSE(g.has_grad(0));
  CHECK_FALSE(g.has_grad(1));
  const auto b_before = copy(g.param(1).data);
  const auto m_before = copy(g.state(1, "exp_avg").data);
  fill_grad(g, 0, 1.0f);
  opt.step();
  // 'b' had no gradient: no update, no weight decay, no state change, no step count.
  CHECK(copy(g.param(1).data) == b_before);
  CHECK(copy(g.state(1, "exp_avg").data) == m_before);
  CHECK(g.step_count(0) == 2);
  CHECK(g.step_count(1) == 1);
  // A gradient materialised after set_to_none starts from zero, like a fresh torch gradient.
  opt.zero_grad();
  for (float x : g.grad(1).data) CHECK(x == 0.0f);
}

TEST_CASE("zero_grad(false) zero-fills gradients and keeps them present", "[api]") {
  SGD opt(two_tensors(), SGDOptions{.lr = 0.1, .weight_decay = 0.5});
  auto& g = opt.param_groups()[0];
  fill_grad(g, 0, 3.0f);
  fill_grad(g, 1, 3.0f);
  opt.zero_grad(false);
  CHECK(g.has_grad(0));
  for (float x : g.grad_arena()) CHECK(x == 0.0f);
  const auto before = copy(g.param(1).data);
  opt.step();
  // Present zero gradient: the step runs, so weight decay still shrinks the parameter.
  CHECK(g.param(1).data[0] == Approx(before[0] * (1 - 0.1 * 0.5)));
  CHECK(g.step_count(1) == 1);
}

TEST_CASE("a step with no gradient anywhere changes nothing", "[api]") {
  Adam opt(two_tensors());
  auto& g = opt.param_groups()[0];
  const auto before = copy(g.param_arena());
  opt.step();
  CHECK(copy(g.param_arena()) == before);
  CHECK(g.state_names().empty());
  CHECK_THROWS_AS(g.state(0, "exp_avg"), std::out_of_range);
}

TEST_CASE("views stay valid across add_param_group", "[api]") {
  SGD opt(two_tensors());
  auto& first = opt.param_groups()[0];
  float* p = opt.param("w").data.data();
  float* gr = opt.grad("w").data.data();
  for (int k = 0; k < 50; ++k)
    opt.add_param_group({{"extra" + std::to_string(k), {1000}, {}}}, {{"lr", 0.5}});
  CHECK(&opt.param_groups()[0] == &first);
  CHECK(opt.param("w").data.data() == p);
  CHECK(opt.grad("w").data.data() == gr);
  CHECK(p[5] == 6.0f);
  CHECK(opt.param_groups()[7].lr() == 0.5);
  CHECK(opt.param_groups()[0].lr() == 1e-3);
}

TEST_CASE("state arrays and per-tensor step counts are exposed", "[api]") {
  Adam opt(two_tensors(), AdamOptions{.amsgrad = true});
  auto& g = opt.param_groups()[0];
  fill_grad(g, 0, 2.0f);
  fill_grad(g, 1, 2.0f);
  opt.step();
  CHECK(g.state_names() == std::vector<std::string>{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
  // After one step m = (1 - beta1) g and v = (1 - beta2) g^2.
  CHECK(g.state(0, "exp_avg").data[0] == Approx(0.2));
  CHECK(g.state(0, "exp_avg_sq").data[0] == Approx(0.004));
  CHECK(g.state(0, "exp_avg").shape.size() == 2);
  CHECK(g.step_count(0) == 1);
  CHECK_THROWS_WITH(g.state(0, "momentum_buffer"), Contains("momentum_buffer"));
  SGD sgd(two_tensors(), SGDOptions{.momentum = 0.9});
  fill_grad(sgd.param_groups()[0], 0, 2.0f);
  sgd.step();
  CHECK(sgd.param_groups()[0].state(0, "momentum_buffer").data[0] == 2.0f);
  CHECK_FALSE(sgd.param_groups()[0].has_state(1));
}

TEST_CASE("step(closure) evaluates the closure once and returns its loss", "[api]") {
  SGD opt(two_tensors(), SGDOptions{.lr = 1.0});
  auto& g = opt.param_groups()[0];
  int calls = 0;
  const double loss = opt.step([&] {
    ++calls;
    fill_grad(g, 0, 1.0f);
    return 4.5;
  });
  CHECK(calls == 1);
  CHECK(loss == 4.5);
  CHECK(g.param(0).data[0] == 0.0f);
}

TEST_CASE("invalid options are rejected with the option's name and value", "[api]") {
  CHECK_THROWS_WITH(SGD(SGDOptions{.lr = -0.1}), Contains("lr") && Contains("-0.1"));
  CHECK_THROWS_WITH(SGD(SGDOptions{.momentum = -1}), Contains("momentum"));
  CHECK_THROWS_WITH(SGD(SGDOptions{.weight_decay = -1}), Contains("weight_decay"));
  CHECK_THROWS_WITH(SGD(SGDOptions{.nesterov = true}), Contains("nesterov"));
  CHECK_THROWS_WITH(SGD(SGDOptions{.momentum = 0.9, .dampening = 0.1, .nesterov = true}),
                    Contains("dampening"));
  CHECK_THROWS_WITH(Adam(AdamOptions{.lr = -1}), Contains("lr"));
  CHECK_THROWS_WITH(Adam(AdamOptions{.beta1 = 1.0}), Contains("beta1") && Contains("[0, 1)"));
  CHECK_THROWS_WITH(Adam(AdamOptions{.beta2 = -0.1}), Contains("beta2"));
  CHECK_THROWS_WITH(Adam(AdamOptions{.eps = -1e-8}), Contains("eps"));
  CHECK_THROWS_WITH(AdamW(AdamWOptions{.weight_decay = -1}), Contains("weight_decay"));
  CHECK_THROWS_WITH(Adam(AdamOptions{.lr = std::nan("")}), Contains("lr"));
  Adam opt;
  CHECK_THROWS_WITH(opt.add_param_group({{"x", {1}, {}}}, {{"betas", 0.9}}),
                    Contains("betas") && Contains("beta1"));
  CHECK_THROWS_WITH(opt.add_param_group({{"x", {1}, {}}}, {{"amsgrad", 2}}), Contains("amsgrad"));
  CHECK_THROWS_WITH(opt.add_param_group({{"x", {-1}, {}}}), Contains("negative"));
  CHECK_THROWS_WITH(opt.add_param_group({{"x", {3}, {1, 2}}}), Contains("init"));
  CHECK_THROWS_WITH(opt.add_param_group({{"x", {1}, {}}, {"x", {1}, {}}}), Contains("twice"));
  opt.add_param_group({{"x", {1}, {}}});
  CHECK_THROWS_WITH(opt.add_param_group({{"x", {1}, {}}}), Contains("another group"));
  CHECK(opt.param_groups().size() == 1);
}

TEST_CASE("NaN and Inf gradients propagate as in torch, without a crash or a skip", "[api]") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (Isa isa : supported_isas()) {
    INFO(isa_name(isa));
    Adam adam({{"w", {20}, std::vector<float>(20, 1.0f)}}, AdamOptions{}, {isa, 1});
    auto& g = adam.param_groups()[0];
    auto grad = g.grad(0).data;
    std::fill(grad.begin(), grad.end(), 1.0f);
    grad[0] = nan;
    grad[1] = inf;
    adam.step();
    CHECK(std::isnan(g.param(0).data[0]));
    CHECK(std::isnan(g.state(0, "exp_avg").data[0]));
    // m = 0.1 inf, v = 0.001 inf: inf / inf is NaN in torch as here.
    CHECK(std::isnan(g.param(0).data[1]));
    CHECK(std::isinf(g.state(0, "exp_avg_sq").data[1]));
    CHECK(std::isfinite(g.param(0).data[2]));
    SGD sgd({{"w", {20}, std::vector<float>(20, 1.0f)}}, SGDOptions{.lr = 0.1}, {isa, 1});
    auto sg = sgd.param_groups()[0].grad(0).data;
    std::fill(sg.begin(), sg.end(), 1.0f);
    sg[0] = nan;
    sg[1] = -inf;
    sgd.step();
    CHECK(std::isnan(sgd.param_groups()[0].param(0).data[0]));
    CHECK(sgd.param_groups()[0].param(0).data[1] == inf);
  }
}

namespace {

// `steps` steps of optimizer `name` with `options` on tensors whose sizes are no multiple of 16;
// after each, the padding of the parameters and of every state array must be zero and the
// parameters finite.
void check_padding_stays_zero(const std::string& name, const GroupOptions& options, Isa isa,
                              int steps = 4) {
  // Adafactor factors the last two shapes.
  const std::vector<Shape> shapes = {{1}, {3}, {17}, {33}, {5, 7}, {2, 3, 4}};
  std::vector<ParamSpec> specs;
  for (std::size_t t = 0; t < shapes.size(); ++t) {
    ParamSpec spec{"t" + std::to_string(t), shapes[t], {}};
    for (std::size_t i = 0; i < numel_of(shapes[t]); ++i)
      spec.init.push_back(std::sin(static_cast<float>(3 * i + t + 1)));
    specs.push_back(std::move(spec));
  }
  std::unique_ptr<Optimizer> opt = make_optimizer(name, RuntimeOptions{isa, 1});
  ParamGroup& g = opt->add_param_group(specs, options);
  const std::vector<float> before = copy(g.param_arena());
  // Nonzero gradients everywhere in the tensors, of varying size and sign.
  auto write_grads = [&](int step) {
    for (std::size_t t = 0; t < g.size(); ++t) {
      auto grad = g.grad(t).data;
      for (std::size_t i = 0; i < grad.size(); ++i)
        grad[i] = std::cos(static_cast<float>(5 * i + 2 * t + step)) * 1e-2f *
                  static_cast<float>(1 + step);
    }
  };
  for (int step = 0; step < steps; ++step) {
    INFO("step " << step + 1);
    if (name == "lbfgs") {
      // The quadratic 0.5 |p|^2 + c . p, whose gradient is p + c.
      opt->step([&] {
        write_grads(step);
        for (std::size_t t = 0; t < g.size(); ++t)
          for (std::size_t i = 0; i < g.grad(t).data.size(); ++i)
            g.grad(t).data[i] += g.param(t).data[i];
        return 1.0;
      });
    } else {
      write_grads(step);
      opt->step();
    }
    kernel_checks::moved_with_zero_padding(g, before);
    for (std::size_t t = 0; t < g.size(); ++t) {
      for (float x : g.param(t).data) REQUIRE(std::isfinite(x));
    }
  }
}

}  // namespace

TEST_CASE("every optimizer keeps the padding of parameters and state zero at every step", "[api]") {
  // Beyond the defaults, options that reach other code paths; Adafactor's eps1 = 1e-30 and 0
  // and LAMB's eps = 0, where a zero gradient over a zero variance is 0 / 0.
  const std::map<std::string, std::vector<GroupOptions>> variants = {
      {"sgd", {{{"momentum", 0.9}, {"nesterov", 1.0}, {"weight_decay", 0.1}, {"maximize", 1.0}}}},
      {"adam", {{{"amsgrad", 1.0}, {"weight_decay", 0.1}, {"maximize", 1.0}}}},
      {"adamw", {{{"amsgrad", 1.0}, {"weight_decay", 0.1}, {"maximize", 1.0}}}},
      {"rmsprop", {{{"momentum", 0.9}, {"centered", 1.0}, {"weight_decay", 0.1}}}},
      {"adagrad", {{{"lr_decay", 0.1}, {"initial_accumulator_value", 0.5}, {"weight_decay", 0.1}}}},
      {"adadelta", {{{"weight_decay", 0.1}, {"maximize", 1.0}}}},
      {"adamax", {{{"weight_decay", 0.1}, {"maximize", 1.0}}}},
      {"nadam", {{{"decoupled_weight_decay", 1.0}, {"weight_decay", 0.1}}}},
      {"radam", {{{"decoupled_weight_decay", 1.0}, {"weight_decay", 0.1}}}},
      {"asgd", {{{"t0", 1.0}, {"weight_decay", 0.1}, {"maximize", 1.0}}}},
      {"rprop", {{{"maximize", 1.0}}}},
      {"lion", {{{"weight_decay", 0.1}, {"maximize", 1.0}}}},
      {"lamb",
       {{{"always_adapt", 1.0}, {"weight_decay", 0.0}, {"trust_clip", 1.0}},
        {{"max_grad_norm", 0.0}, {"bias_correction", 0.0}, {"grad_averaging", 0.0}},
        {{"eps", 0.0}},
        {{"eps", 0.0}, {"weight_decay", 0.0}}}},
      {"lars",
       {{{"momentum", 0.9}, {"weight_decay", 0.1}, {"always_adapt", 1.0}, {"trust_clip", 1.0}},
        {{"momentum", 0.9}, {"nesterov", 1.0}, {"weight_decay", 0.1}, {"exclude_1d", 1.0}}}},
      {"adafactor",
       {{{"eps1", 1e-30}},
        {{"eps1", 0.0}, {"weight_decay", 0.1}, {"maximize", 1.0}},
        {{"eps1", 0.0}, {"d", 2.0}, {"eps2", 0.0}}}},
      {"lbfgs", {{{"strong_wolfe", 1.0}, {"history_size", 2.0}}}},
  };
  for (const std::string& name : registered_optimizers()) {
    std::vector<GroupOptions> option_sets = {{}};
    if (const auto it = variants.find(name); it != variants.end())
      option_sets.insert(option_sets.end(), it->second.begin(), it->second.end());
    for (std::size_t k = 0; k < option_sets.size(); ++k)
      for (const Isa isa : {Isa::scalar, default_isa()}) {
        INFO(name << " option set " << k << " on " << isa_name(isa));
        check_padding_stays_zero(name, option_sets[k], isa);
      }
  }
}

// eps = 0 is valid in torch, and a zero gradient then gives 0 / 0 = NaN in torch too; but the
// padding is not torch's: the elementwise kernels run over it and the driver clears it.
TEST_CASE("the padding stays zero with eps = 0 too", "[api]") {
  const std::string name = GENERATE(as<std::string>{}, "adadelta", "adagrad", "adam", "adamax",
                                    "adamw", "nadam", "radam", "rmsprop");
  INFO(name);
  // 8 steps: RAdam divides by sqrt(v) + eps from its 6th.
  check_padding_stays_zero(name, {{"eps", 0.0}}, Isa::scalar, 8);
}

TEST_CASE("a step count set to its type's maximum does not overflow", "[api]") {
  for (const std::string& name : registered_optimizers()) {
    if (name == "lbfgs") continue;  // no step count
    INFO(name);
    auto opt = make_optimizer(name, RuntimeOptions{Isa::scalar, 1});
    opt->add_param_group(two_tensors());
    auto& g = opt->param_groups()[0];
    fill_grad(g, 0, 0.5f);
    fill_grad(g, 1, 0.5f);
    opt->step();
    for (auto& st : g.tensor_states()) st.step = std::numeric_limits<std::int64_t>::max();
    opt->step();
    for (std::size_t i = 0; i < g.size(); ++i)
      for (float x : g.param(i).data) CHECK(std::isfinite(x));
  }
}

TEST_CASE("AdamW's options default to torch's weight decay", "[api]") {
  CHECK(AdamW(AdamWOptions{.lr = 1e-3}).defaults().get("weight_decay") == 1e-2);
  CHECK(AdamW().defaults().get("weight_decay") == 1e-2);
  CHECK(Adam(AdamOptions{.lr = 1e-3}).defaults().get("weight_decay") == 0.0);
  // Adam's options, whose weight_decay defaults to 0, do not convert silently.
  STATIC_REQUIRE(!std::is_constructible_v<AdamW, AdamOptions>);
  STATIC_REQUIRE(!std::is_constructible_v<AdamW, std::vector<ParamSpec>, AdamOptions>);
}

TEST_CASE("options written directly are checked at step()", "[api]") {
  SGD opt(two_tensors(), SGDOptions{.lr = 0.1});
  auto& g = opt.param_groups()[0];
  fill_grad(g, 0, 1.0f);
  const auto before = copy(g.param(0).data);
  g.set_lr(-1.0);
  CHECK_THROWS_WITH(opt.step(), Contains("lr"));
  CHECK(copy(g.param(0).data) == before);
  g.set_lr(0.1);
  opt.step();
  CHECK(copy(g.param(0).data) != before);
}

TEST_CASE("SGD checks nesterov's dampening when a group is made, not when it changes later",
          "[api]") {
  CHECK_THROWS_WITH(SGD(two_tensors(), SGDOptions{.momentum = 0.9, .nesterov = true})
                        .add_param_group({{"x", {1}, {}}}, {{"dampening", 0.5}}),
                    Contains("nesterov"));
  SGD opt(two_tensors(), SGDOptions{.lr = 0.1, .momentum = 0.9, .nesterov = true});
  auto& g = opt.param_groups()[0];
  fill_grad(g, 0, 1.0f);
  opt.step();
  g.options().set("dampening", 0.5);  // torch steps on
  fill_grad(g, 0, 1.0f);
  opt.step();
  // buf = 0.9 * 1 + 0.5 * 1 = 1.4; d = 1 + 0.9 * 1.4 = 2.26; first step moved p by 0.1 * 1.9.
  CHECK(g.param(0).data[0] == Approx(1.0f - 0.1f * 1.9f - 0.1f * 2.26f));
}
