// Rprop (torch.optim.Rprop, 1.13); formula in include/simdoptim/rprop.hpp.
#include "optim/rule_kernel.hpp"
#include "validate_options.hpp"

namespace simdoptim::detail {
namespace {

struct RpropRule {
  static constexpr std::string_view torch_signature =
      "Rprop(params, lr, etas, step_sizes, foreach, maximize)";
  static constexpr OptionSpec options[] = {
      {"lr", 1e-2, Check::non_negative, "initial step size"},
      {"etaminus", 0.5, Check::custom, "step size factor on a sign change (torch: etas[0])"},
      {"etaplus", 1.2, Check::custom, "step size factor otherwise (torch: etas[1])"},
      {"step_size_min", 1e-6, Check::number, "lower bound of the step size"},
      {"step_size_max", 50.0, Check::number, "upper bound of the step size"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { prev, step_size };
  static constexpr StateSpec states[] = {{"prev"}, {"step_size", {}, "lr"}};

  static void validate(const GroupOptions& o) {
    const double minus = o.get("etaminus"), plus = o.get("etaplus");
    if (!(0.0 < minus && minus < 1.0))
      invalid_option("etaminus", minus, "need 0 < etaminus < 1 < etaplus");
    if (!(1.0 < plus)) invalid_option("etaplus", plus, "need 0 < etaminus < 1 < etaplus");
  }

  struct Flags {
    bool maximize;
  };
  template <class V>
  struct Coefs {
    V etaminus, etaplus, step_size_min, step_size_max;
  };

  static void prepare(const GroupOptions& o, const StepInfo&, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    c = {.etaminus = f32(o.get("etaminus")),
         .etaplus = f32(o.get("etaplus")),
         .step_size_min = f32(o.get("step_size_min")),
         .step_size_max = f32(o.get("step_size_max"))};
    f = {.maximize = o.flag("maximize")};
  }

  // Branch-free sign logic; a NaN falls through every comparison.
  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    const V zero(0.0f), one(1.0f);
    V g = x.grad();
    if constexpr (F.maximize) g = ops::neg(g);
    const V s = g * x.state(prev);
    const V factor = ops::select(s > zero, c.etaplus, ops::select(s < zero, c.etaminus, one));
    V step = x.state(step_size) * factor;
    step = ops::select(step < c.step_size_min, c.step_size_min, step);
    step = ops::select(step > c.step_size_max, c.step_size_max, step);
    g = ops::select(s < zero, zero, g);
    const V neg_sign = ops::select(g > zero, V(-1.0f), ops::select(g < zero, one, V(-0.0f)));
    x.set_state(step_size, step);
    x.set_state(prev, g);
    x.set_param(x.param() + neg_sign * step);
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(rprop_step, RpropRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/rprop.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kRprop =
    detail::make_rule<detail::RpropRule>("rprop", detail::rprop_step_kernel);
}  // namespace

GroupOptions RpropOptions::to_group_options() const {
  return {{"lr", lr},
          {"etaminus", etaminus},
          {"etaplus", etaplus},
          {"step_size_min", step_size_min},
          {"step_size_max", step_size_max},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Rprop::Rprop(std::vector<ParamSpec> params, RpropOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kRprop, options.to_group_options(), runtime, std::move(params)) {}

Rprop::Rprop(RpropOptions options, RuntimeOptions runtime) : Rprop({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(rprop, detail::registration_of<kRprop>())
#endif
