// Every elementwise optimizer against an independent double-precision reference of its published
// algorithm (reference_algorithms.hpp), through the public API only: two param groups with
// different options, tensors of several shapes, 30 steps, gradients whose scales span 1e-8 to 1e4
// (per element and per tensor, so that eps, weight decay, clipping and the trust ratios all change
// the result somewhere), and the option variants each optimizer has. Parameters, every state
// array (including Adafactor's factored statistics) and the per-tensor scalars (NAdam's
// mu_product, ASGD's eta and mu) are compared after every step.
//
// Tolerance. Each compared value x is checked as |library - reference| <= rtol * scale(x), where
// scale(x) is, per element, the largest |x| so far plus the total variation of x so far (the sum
// of |x_t - x_{t-1}| over the steps). Every float32 operation of an update rounds with a relative
// error of at most u = 2^-24 ~ 6e-8 of its operands, and those operands are bounded by the value
// and by its per-step changes, so the error after N steps is at most about k u (N max|x| + sum of
// |changes|) for an update of k dependent operations (the propagated error of earlier state counts
// once per step it survives, which N covers). scale() is that bound without k and N; rtol = k N u
// with N = 30 and k per optimizer (the table below says why each). The float32 gradients and
// initial values are the reference's inputs exactly (widened to double), so only the library's
// own rounding is measured. A dropped or misplaced term changes some element by a large fraction of
// its per-step change, far above rtol.
//
// The algorithms run on the scalar build (every other build equals it bit for bit, checked in
// test_elementwise_kernels.cpp), and once more on the default build.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "reference_algorithms.hpp"
#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;

namespace {

constexpr int kSteps = 30;
constexpr double kUnit = 5.9604644775390625e-08;  // u = 2^-24, float32's unit roundoff

// Overrides of the two groups of one run.
struct Config {
  GroupOptions first;
  GroupOptions second;
};

struct Algorithm {
  std::string name;
  reference::StepFn step;
  reference::Options defaults;  // torch's (timm's) defaults, as their documentation states them
  double rtol;
  std::vector<Config> configs;
  bool has_step_count = true;  // torch's SGD (and timm's LARS) keep no step
  // State arrays that hold parameter values (ASGD's average): their errors include the
  // parameters', so their scale includes the parameters' scale.
  std::vector<std::string> parameter_states = {};
};

// The table. rtol = k N u (see the top of the file) with k, per optimizer:
std::vector<Algorithm> algorithms() {
  std::vector<Algorithm> out;
  // SGD: k = 8. p -= lr * (buf) with buf = m buf + (1 - d) g, nesterov adding m buf: about four
  // roundings per step on values of the size of the change, plus the weight decay product.
  out.push_back({"sgd",
                 reference::sgd,
                 {{"lr", 1e-3},
                  {"momentum", 0.0},
                  {"dampening", 0.0},
                  {"weight_decay", 0.0},
                  {"nesterov", 0.0},
                  {"maximize", 0.0}},
                 8 * kSteps * kUnit,
                 {{{{"lr", 1e-2}, {"momentum", 0.9}, {"dampening", 0.1}, {"weight_decay", 0.1}},
                   {{"lr", 3e-3}, {"momentum", 0.8}, {"nesterov", 1.0}, {"maximize", 1.0}}},
                  {{{"lr", 1e-2}, {"weight_decay", 0.05}, {"maximize", 1.0}},
                   {{"lr", 1e-3}, {"momentum", 0.5}, {"nesterov", 1.0}, {"weight_decay", 0.01}}}},
                 false});
  // Adam / AdamW: k = 16. Two moment updates, a square root, a division by sqrt(v) + eps
  // (whose relative error passes to the step), the bias corrections folded into float32
  // constants, the decay product; the step's relative error is a few u per operation.
  const reference::Options adam_defaults = {
      {"lr", 1e-3},          {"beta1", 0.9},   {"beta2", 0.999}, {"eps", 1e-8},
      {"weight_decay", 0.0}, {"amsgrad", 0.0}, {"maximize", 0.0}};
  const std::vector<Config> adam_configs = {
      {{{"lr", 1e-2}, {"eps", 1e-3}, {"weight_decay", 0.1}},
       {{"lr", 3e-3},
        {"eps", 1e-8},
        {"beta1", 0.8},
        {"beta2", 0.99},
        {"amsgrad", 1.0},
        {"maximize", 1.0},
        {"weight_decay", 0.0}}},
      {{{"lr", 1e-2}, {"eps", 1e-8}, {"weight_decay", 0.05}, {"amsgrad", 1.0}},
       {{"lr", 1e-3}, {"eps", 1e-3}, {"maximize", 1.0}, {"weight_decay", 0.0}}}};
  out.push_back({"adam", reference::adam, adam_defaults, 16 * kSteps * kUnit, adam_configs});
  reference::Options adamw_defaults = adam_defaults;
  adamw_defaults["weight_decay"] = 1e-2;
  out.push_back({"adamw", reference::adamw, adamw_defaults, 16 * kSteps * kUnit, adam_configs});
  // RMSprop: k = 16. As Adam, plus the centered variance square_avg - grad_avg^2, whose relative
  // error is at most 1 / (1 - alpha) = 100 times its operands' only when the gradient barely
  // varies, which these random gradients avoid; the momentum buffer adds a rounding per step.
  out.push_back(
      {"rmsprop",
       reference::rmsprop,
       {{"lr", 1e-2},
        {"momentum", 0.0},
        {"alpha", 0.99},
        {"eps", 1e-8},
        {"centered", 0.0},
        {"weight_decay", 0.0},
        {"maximize", 0.0}},
       16 * kSteps * kUnit,
       {{{{"lr", 1e-3}, {"eps", 1e-3}, {"momentum", 0.9}, {"centered", 1.0}, {"weight_decay", 0.1}},
         {{"lr", 1e-2}, {"eps", 1e-8}, {"alpha", 0.9}, {"maximize", 1.0}}},
        {{{"lr", 1e-2}, {"eps", 1e-8}, {"centered", 1.0}, {"maximize", 1.0}},
         {{"lr", 1e-3}, {"eps", 1e-3}, {"momentum", 0.5}, {"weight_decay", 0.01}}}}});
  // Adagrad: k = 8. sum += g^2 (positive terms: relative error N u), a square root, one division.
  out.push_back(
      {"adagrad",
       reference::adagrad,
       {{"lr", 1e-2},
        {"lr_decay", 0.0},
        {"weight_decay", 0.0},
        {"initial_accumulator_value", 0.0},
        {"eps", 1e-10},
        {"maximize", 0.0}},
       8 * kSteps * kUnit,
       {{{{"lr", 1e-1}, {"lr_decay", 0.05}, {"eps", 1e-3}, {"weight_decay", 0.1}},
         {{"lr", 1e-2}, {"eps", 1e-8}, {"initial_accumulator_value", 1e-6}, {"maximize", 1.0}}}}});
  // Adadelta: k = 16. Two running averages, two square roots, a quotient and a product per step;
  // delta's error enters acc_delta, which scales the next steps.
  out.push_back(
      {"adadelta",
       reference::adadelta,
       {{"lr", 1.0}, {"rho", 0.9}, {"eps", 1e-6}, {"weight_decay", 0.0}, {"maximize", 0.0}},
       16 * kSteps * kUnit,
       {{{{"lr", 1.0}, {"eps", 1e-6}, {"weight_decay", 0.1}},
         {{"lr", 0.5}, {"rho", 0.95}, {"eps", 1e-3}, {"maximize", 1.0}}}}});
  // Adamax: k = 8. One average, a max (exact), |g| + eps, one division.
  out.push_back(
      {"adamax",
       reference::adamax,
       {{"lr", 2e-3},
        {"beta1", 0.9},
        {"beta2", 0.999},
        {"eps", 1e-8},
        {"weight_decay", 0.0},
        {"maximize", 0.0}},
       8 * kSteps * kUnit,
       {{{{"lr", 1e-2}, {"eps", 1e-3}, {"weight_decay", 0.1}},
         {{"lr", 2e-3}, {"eps", 1e-8}, {"beta1", 0.8}, {"beta2", 0.99}, {"maximize", 1.0}}}}});
  // NAdam: k = 16. As Adam with two update terms; mu_product is a float32 (torch's 0-d tensor),
  // a relative error of one u per step in 1 - mu_product >= 0.1.
  out.push_back({"nadam",
                 reference::nadam,
                 {{"lr", 2e-3},
                  {"beta1", 0.9},
                  {"beta2", 0.999},
                  {"eps", 1e-8},
                  {"weight_decay", 0.0},
                  {"momentum_decay", 4e-3},
                  {"decoupled_weight_decay", 0.0}},
                 16 * kSteps * kUnit,
                 {{{{"lr", 1e-2}, {"eps", 1e-3}, {"weight_decay", 0.1}},
                   {{"lr", 2e-3},
                    {"eps", 1e-8},
                    {"beta1", 0.8},
                    {"momentum_decay", 0.1},
                    {"weight_decay", 0.05},
                    {"decoupled_weight_decay", 1.0}}}}});
  // RAdam: k = 16. As Adam; the rectification term is computed in double by both.
  out.push_back({"radam",
                 reference::radam,
                 {{"lr", 1e-3},
                  {"beta1", 0.9},
                  {"beta2", 0.999},
                  {"eps", 1e-8},
                  {"weight_decay", 0.0},
                  {"decoupled_weight_decay", 0.0}},
                 16 * kSteps * kUnit,
                 {{{{"lr", 1e-2}, {"eps", 1e-3}, {"weight_decay", 0.1}},
                   {{"lr", 3e-3},
                    {"eps", 1e-8},
                    {"beta2", 0.99},
                    {"weight_decay", 0.05},
                    {"decoupled_weight_decay", 1.0}}}}});
  // ASGD: k = 8. Two products and a sum for p, one average for ax; eta and mu are float32
  // scalars (torch's 0-d tensors), one rounding each per step.
  out.push_back(
      {"asgd",
       reference::asgd,
       {{"lr", 1e-2},
        {"lambd", 1e-4},
        {"alpha", 0.75},
        {"t0", 1e6},
        {"weight_decay", 0.0},
        {"maximize", 0.0}},
       8 * kSteps * kUnit,
       {{{{"lr", 1e-2}, {"lambd", 1e-2}, {"t0", 10.0}, {"weight_decay", 0.1}},
         {{"lr", 1e-3}, {"lambd", 1e-4}, {"alpha", 0.5}, {"t0", 5.0}, {"maximize", 1.0}}}},
       true,
       {"ax"}});
  // Rprop: k = 4. The signs are exact (same float32 gradients); step_size is a product of N
  // factors (one rounding each), p moves by +-step_size.
  out.push_back({"rprop",
                 reference::rprop,
                 {{"lr", 1e-2},
                  {"etaminus", 0.5},
                  {"etaplus", 1.2},
                  {"step_size_min", 1e-6},
                  {"step_size_max", 50.0},
                  {"maximize", 0.0}},
                 4 * kSteps * kUnit,
                 {{{{"lr", 1e-2}, {"step_size_min", 1e-3}, {"step_size_max", 3e-2}},
                   {{"lr", 1e-3}, {"etaminus", 0.3}, {"etaplus", 1.5}, {"maximize", 1.0}}}}});
  // Lion: k = 4. sign() is exact unless beta1 m + (1 - beta1) g is within rounding of 0 (not
  // with these gradients); m is one average; p moves by lr and the decay product.
  out.push_back(
      {"lion",
       reference::lion,
       {{"lr", 1e-4}, {"beta1", 0.9}, {"beta2", 0.99}, {"weight_decay", 0.0}, {"maximize", 0.0}},
       4 * kSteps * kUnit,
       {{{{"lr", 1e-3}, {"weight_decay", 0.1}},
         {{"lr", 3e-4}, {"beta1", 0.8}, {"beta2", 0.95}, {"maximize", 1.0}}}}});
  // LAMB: k = 32. Adam's update, then the trust ratio ||p|| / ||u|| (norms summed in double,
  // but of float32 values carrying Adam's error), the clipping divisor (a float32 constant) and
  // the float32 product lr * ratio.
  out.push_back({"lamb",
                 reference::lamb,
                 {{"lr", 1e-3},
                  {"beta1", 0.9},
                  {"beta2", 0.999},
                  {"eps", 1e-6},
                  {"weight_decay", 0.01},
                  {"bias_correction", 1.0},
                  {"grad_averaging", 1.0},
                  {"max_grad_norm", 1.0},
                  {"trust_clip", 0.0},
                  {"always_adapt", 0.0}},
                 32 * kSteps * kUnit,
                 {// Clipping on in both groups (the gradients' norm is ~1e4, always clipped).
                  {{{"lr", 1e-2}, {"eps", 1e-3}, {"weight_decay", 0.1}},
                   {{"lr", 3e-3},
                    {"eps", 1e-6},
                    {"beta1", 0.8},
                    {"weight_decay", 0.0},
                    {"always_adapt", 1.0},
                    {"trust_clip", 1.0}}},
                  // Groups that disagree: a threshold the norm crosses between steps, and none.
                  {{{"lr", 1e-2},
                    {"eps", 1e-8},
                    {"max_grad_norm", 2e4},
                    {"bias_correction", 0.0},
                    {"grad_averaging", 0.0}},
                   {{"lr", 1e-3}, {"eps", 1e-3}, {"max_grad_norm", 0.0}, {"weight_decay", 0.0}}}}});
  // LARS: k = 16. A trust ratio from two norms (double sums of float32 values), the decayed
  // gradient scaled by it, then SGD's momentum and step.
  out.push_back(
      {"lars",
       reference::lars,
       {{"lr", 1.0},
        {"momentum", 0.0},
        {"dampening", 0.0},
        {"weight_decay", 0.0},
        {"nesterov", 0.0},
        {"trust_coeff", 0.001},
        {"eps", 1e-8},
        {"trust_clip", 0.0},
        {"always_adapt", 0.0},
        {"exclude_1d", 0.0}},
       16 * kSteps * kUnit,
       {{{{"lr", 0.5}, {"momentum", 0.9}, {"dampening", 0.1}, {"weight_decay", 0.1}, {"eps", 1e-3}},
         {{"lr", 0.1},
          {"momentum", 0.9},
          {"nesterov", 1.0},
          {"always_adapt", 1.0},
          {"eps", 1e-8},
          {"trust_clip", 1.0}}},
        {{{"lr", 0.5}, {"weight_decay", 0.01}, {"exclude_1d", 1.0}, {"eps", 1e-8}},
         {{"lr", 0.2}, {"momentum", 0.5}, {"weight_decay", 0.0}}}},
       false});
  // Adafactor: k = 32. Row and column means of g^2 (float32 lanes summed in double), their lerp,
  // the factored estimate R C / mean(R), a reciprocal square root, RMS(U) and RMS(p) feeding the
  // step size, and the decay product.
  out.push_back({"adafactor",
                 reference::adafactor,
                 {{"lr", 1e-2},
                  {"beta2_decay", -0.8},
                  {"eps1", 1.1920928955078125e-07},
                  {"eps2", 1e-3},
                  {"d", 1.0},
                  {"weight_decay", 0.0},
                  {"maximize", 0.0}},
                 32 * kSteps * kUnit,
                 {{{{"lr", 1e-2}, {"weight_decay", 0.1}},
                   {{"lr", 0.3},
                    {"beta2_decay", -0.5},
                    {"eps1", 1e-3},
                    {"eps2", 1e-1},
                    {"d", 2.0},
                    {"maximize", 1.0}}}}});
  return out;
}

// The tensors of every group, and how their gradients and initial values are drawn.
struct TensorPlan {
  Shape shape;
  double init_scale;                // initial values: init_scale * N(0, 1)
  double grad_exp_lo, grad_exp_hi;  // per element scale 10^U(lo, hi)
};
const std::vector<TensorPlan> kTensors = {
    {{1}, 1e-6, -7, -7},      // tiny parameter and gradient: eps and eps2 dominate
    {{17}, 1.0, -7, 3},       // every scale within one tensor
    {{5, 7}, 1e-6, -6, -4},   // small parameters and gradients; factored in Adafactor
    {{300}, 1.0, -7, 3},      // every scale, longer
    {{2, 3, 4}, 1.0, 1, 3}};  // large gradients; a batch of matrices in Adafactor

// Whether tensor `t` of group `g` has no gradient at step `s` (torch: grad is None): tensors
// whose step counts lag behind the others'.
bool skipped(std::size_t g, std::size_t t, int s) {
  return (g == 0 && t == 0 && s == 0) || (g == 1 && t == 2 && (s == 4 || s == 11));
}

// Per element of a compared array: the largest |value| so far plus its total variation.
struct Scale {
  std::vector<double> previous, peak, variation;
  const Scale* also = nullptr;  // another array's scale added to this one's

  const Scale& update(const std::vector<double>& x) {
    if (previous.empty()) previous.assign(x.size(), 0.0), peak = variation = previous;
    for (std::size_t i = 0; i < x.size(); ++i) {
      variation[i] += std::fabs(x[i] - previous[i]);
      peak[i] = std::max(peak[i], std::fabs(x[i]));
      previous[i] = x[i];
    }
    return *this;
  }
  double at(std::size_t i) const { return peak[i] + variation[i] + (also ? also->at(i) : 0.0); }
};

struct Run {
  const Algorithm& algorithm;
  std::map<std::string, Scale> scales;
  double worst = 0.0;  // largest |library - reference| / scale seen

  // `key` names the array (its scale accumulates over the steps), `what` the array at this step.
  void compare(const std::string& key, const std::string& what, std::span<const float> library,
               const std::vector<double>& ref) {
    REQUIRE(library.size() == ref.size());
    const Scale& scale = scales[key].update(ref);
    std::size_t bad = 0, first = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) {
      const double error = std::fabs(static_cast<double>(library[i]) - ref[i]);
      const double allowed = algorithm.rtol * scale.at(i);
      if (scale.at(i) > 0.0) worst = std::max(worst, error / scale.at(i));
      if (!(error <= allowed)) {
        if (bad == 0) first = i;
        ++bad;
      }
    }
    if (bad != 0) {
      const double allowed = algorithm.rtol * scale.at(first);
      FAIL_CHECK(what << ": " << bad << " of " << ref.size() << " elements differ; element "
                      << first << " is " << library[first] << ", the reference " << ref[first]
                      << " (allowed difference " << allowed << ")");
    }
  }
};

reference::Options merged(const reference::Options& defaults, const GroupOptions& overrides) {
  reference::Options out = defaults;
  for (const auto& [key, value] : overrides.items()) {
    REQUIRE(out.count(key) == 1);
    out[key] = value;
  }
  return out;
}

// Runs one configuration for kSteps steps on the library and the reference, comparing after
// every step; returns the largest relative error seen.
double run_config(const Algorithm& algorithm, const Config& config, RuntimeOptions runtime) {
  std::mt19937 rng(20240611);
  std::normal_distribution<double> normal;
  std::uniform_real_distribution<double> uniform;

  auto opt = make_optimizer(algorithm.name, runtime);
  std::vector<reference::Group> ref(2);
  // Per element gradient scale and mean: g = step_scale * scale * (mean + N(0, 1)); the mean
  // keeps some gradient signs steady (Rprop's step sizes grow to their bound, moments build up).
  std::vector<std::vector<std::vector<double>>> grad_scale(2), grad_mean(2);
  for (std::size_t g = 0; g < 2; ++g) {
    std::vector<ParamSpec> specs;
    for (std::size_t t = 0; t < kTensors.size(); ++t) {
      const TensorPlan& plan = kTensors[t];
      ParamSpec spec{"g" + std::to_string(g) + "t" + std::to_string(t), plan.shape, {}};
      reference::Tensor rt;
      rt.shape = plan.shape;
      const std::size_t n = numel_of(plan.shape);
      std::vector<double> scale(n), mean(n);
      for (std::size_t i = 0; i < n; ++i) {
        spec.init.push_back(static_cast<float>(plan.init_scale * normal(rng)));
        rt.param.push_back(spec.init.back());
        const double e = plan.grad_exp_lo + (plan.grad_exp_hi - plan.grad_exp_lo) * uniform(rng);
        scale[i] = std::pow(10.0, e);
        mean[i] = 4.0 * uniform(rng) - 2.0;
      }
      grad_scale[g].push_back(std::move(scale));
      grad_mean[g].push_back(std::move(mean));
      specs.push_back(std::move(spec));
      ref[g].tensors.push_back(std::move(rt));
    }
    const GroupOptions& overrides = g == 0 ? config.first : config.second;
    opt->add_param_group(std::move(specs), overrides);
    ref[g].options = merged(algorithm.defaults, overrides);
  }

  Run run{algorithm, {}, 0.0};
  // The parameters' rounding errors scale with their initial values too.
  for (std::size_t g = 0; g < 2; ++g)
    for (std::size_t t = 0; t < kTensors.size(); ++t)
      run.scales[opt->param_groups()[g].info(t).name + " param"].update(ref[g].tensors[t].param);
  for (int s = 0; s < kSteps; ++s) {
    opt->zero_grad(true);
    const double step_scale = std::pow(10.0, 2.0 * uniform(rng) - 1.0);
    for (std::size_t g = 0; g < 2; ++g)
      for (std::size_t t = 0; t < kTensors.size(); ++t) {
        reference::Tensor& rt = ref[g].tensors[t];
        std::vector<float> grad(rt.numel());
        for (std::size_t i = 0; i < grad.size(); ++i)
          grad[i] = static_cast<float>(step_scale * grad_scale[g][t][i] *
                                       (grad_mean[g][t][i] + normal(rng)));
        rt.has_grad = !skipped(g, t, s);
        if (!rt.has_grad) continue;
        std::copy(grad.begin(), grad.end(), opt->param_groups()[g].grad(t).data.begin());
        rt.grad.assign(grad.begin(), grad.end());
      }
    opt->step();
    algorithm.step(ref);

    for (std::size_t g = 0; g < 2; ++g) {
      ParamGroup& group = opt->param_groups()[g];
      for (const std::string& name : group.state_names()) {
        bool known = false;
        for (const reference::Tensor& rt : ref[g].tensors) known = known || rt.state.count(name);
        if (!known)
          FAIL_CHECK("step " << s + 1 << " group " << g << ": the library keeps state '" << name
                             << "', which the algorithm does not have");
      }
      for (std::size_t t = 0; t < kTensors.size(); ++t) {
        const reference::Tensor& rt = ref[g].tensors[t];
        const std::string tensor = group.info(t).name + " ";
        const std::string where = "step " + std::to_string(s + 1) + " " + tensor;
        run.compare(tensor + "param", where + "param", group.param(t).data, rt.param);
        if (algorithm.has_step_count) CHECK(group.step_count(t) == rt.step);
        if (rt.step == 0) continue;
        const auto names = group.state_names();
        const auto side = opt->side_arrays(g, t);
        for (const auto& [name, values] : rt.state) {
          std::span<const float> library;
          if (std::find(names.begin(), names.end(), name) != names.end()) {
            library = group.state(t, name).data;
          } else {
            for (const auto& a : side)
              if (a.name == name) library = a.data;
            if (library.empty()) {
              FAIL_CHECK(where << "the library has no state '" << name << "'");
              continue;
            }
          }
          const auto& p = algorithm.parameter_states;
          if (std::find(p.begin(), p.end(), name) != p.end())
            run.scales[tensor + name].also = &run.scales[tensor + "param"];
          run.compare(tensor + name, where + name, library, values);
        }
        std::vector<std::pair<std::string, double>> scalars;
        opt->save_tensor_scalars(g, t, scalars);
        for (const auto& [name, value] : scalars) {
          const auto it = rt.scalars.find(name);
          if (it == rt.scalars.end()) {
            FAIL_CHECK(where << "the library has scalar state '" << name << "', torch has not");
            continue;
          }
          const float library = static_cast<float>(value);
          run.compare(tensor + name, where + name, {&library, 1}, {it->second});
        }
      }
    }
  }
  return run.worst;
}

void check_all(RuntimeOptions runtime) {
  const bool report = std::getenv("SIMDOPTIM_REFERENCE_REPORT") != nullptr;
  for (const Algorithm& algorithm : algorithms()) {
    double worst = 0.0;
    for (std::size_t c = 0; c < algorithm.configs.size(); ++c) {
      INFO(algorithm.name << " configuration " << c);
      worst = std::max(worst, run_config(algorithm, algorithm.configs[c], runtime));
    }
    if (report)
      std::cout << algorithm.name << ": largest error " << worst << " of the scale, rtol "
                << algorithm.rtol << " (" << algorithm.rtol / std::max(worst, 1e-300) << " x)\n";
  }
}

}  // namespace

TEST_CASE("every elementwise optimizer has a reference here", "[reference]") {
  const auto list = algorithms();
  for (const std::string& name : registered_optimizers()) {
    if (name == "lbfgs") continue;  // closure-driven line search, checked in test_lbfgs.cpp
    INFO(name);
    CHECK(
        std::any_of(list.begin(), list.end(), [&](const Algorithm& a) { return a.name == name; }));
  }
}

TEST_CASE("every optimizer follows its published algorithm to float32 rounding (scalar build)",
          "[reference]") {
  check_all(RuntimeOptions{Isa::scalar, 1});
}

TEST_CASE("every optimizer follows its published algorithm to float32 rounding (default build)",
          "[reference]") {
  check_all(RuntimeOptions{std::nullopt, 1});
}
