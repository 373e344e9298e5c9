// ASGD (torch.optim.ASGD, 1.13); formula in include/simdoptim/asgd.hpp.
#include <algorithm>
#include <string>

#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

struct AsgdRule {
  static constexpr std::string_view torch_signature =
      "ASGD(params, lr, lambd, alpha, t0, weight_decay, foreach, maximize)";
  static constexpr OptionSpec options[] = {
      {"lr", 1e-2, Check::non_negative, "learning rate"},
      {"lambd", 1e-4, Check::number, "decay term"},
      {"alpha", 0.75, Check::number, "power of the eta update"},
      {"t0", 1e6, Check::number, "step at which averaging starts"},
      {"weight_decay", 0.0, Check::non_negative, "L2 penalty added to g"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { ax };
  static constexpr StateSpec states[] = {{"ax"}};
  // float32 values, as torch's 0-d tensor state.
  enum Scalar { eta, mu };
  static constexpr TensorScalarSpec tensor_scalars[] = {{"eta", 0.0}, {"mu", 1.0}};

  struct Flags {
    bool maximize, weight_decay, average;
  };
  template <class V>
  struct Coefs {
    V decay_factor, neg_eta, mu, weight_decay;
  };

  static void prepare(const GroupOptions& o, const StepInfo& s, std::span<double> scalars, Flags& f,
                      Coefs<float>& c) {
    const double lr = o.get("lr"), lambd = o.get("lambd");
    // A tensor's eta starts at the lr of its group when it first steps (torch).
    if (s.first) {
      scalars[eta] = f32(lr);
      scalars[mu] = 1.0;
    }
    const float eta_now = f32(scalars[eta]);
    c = {.decay_factor = f32(1.0 - lambd * static_cast<double>(eta_now)),
         .neg_eta = -eta_now,
         .mu = f32(scalars[mu]),
         .weight_decay = f32(o.get("weight_decay"))};
    f = {.maximize = o.flag("maximize"),
         .weight_decay = c.weight_decay != 0.0f,
         .average = c.mu != 1.0f};
    const auto t = static_cast<double>(s.step);
    scalars[eta] = f32(lr / std::pow(1.0 + lambd * lr * t, o.get("alpha")));
    scalars[mu] = f32(1.0 / std::max(1.0, t - o.get("t0")));
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    V p = x.param();
    V g = x.grad();
    if constexpr (F.maximize) g = ops::neg(g);
    if constexpr (F.weight_decay) g = g + c.weight_decay * p;
    p = p * c.decay_factor;
    p = p + c.neg_eta * g;
    x.set_param(p);
    if constexpr (F.average) {
      const V a = x.state(ax);
      x.set_state(ax, a + (p - a) * c.mu);
    } else {
      x.set_state(ax, p);
    }
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(asgd_step, AsgdRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/asgd.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kAsgd =
    detail::make_rule<detail::AsgdRule>("asgd", detail::asgd_step_kernel);
}  // namespace

GroupOptions ASGDOptions::to_group_options() const {
  return {{"lr", lr},
          {"lambd", lambd},
          {"alpha", alpha},
          {"t0", t0},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

ASGD::ASGD(std::vector<ParamSpec> params, ASGDOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kAsgd, options.to_group_options(), runtime, std::move(params)) {}

ASGD::ASGD(ASGDOptions options, RuntimeOptions runtime) : ASGD({}, options, runtime) {}

double ASGD::eta(std::size_t group, std::size_t tensor) const {
  return stepped_scalar(group, tensor, "eta");
}

double ASGD::mu(std::size_t group, std::size_t tensor) const {
  return stepped_scalar(group, tensor, "mu");
}

double ASGD::stepped_scalar(std::size_t group, std::size_t tensor, std::string_view name) const {
  // torch has no state for the tensor before its first step.
  if (group >= param_groups().size() || tensor >= param_groups()[group].size() ||
      !param_groups()[group].has_state(tensor))
    throw std::out_of_range("ASGD: no state for tensor " + std::to_string(tensor) + " of group " +
                            std::to_string(group));
  return tensor_scalar(group, tensor, name);
}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(asgd, detail::registration_of<kAsgd>())
#endif
