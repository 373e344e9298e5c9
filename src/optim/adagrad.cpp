// Adagrad (torch.optim.Adagrad, 1.13, dense gradients); formula in include/simdoptim/adagrad.hpp.
#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

struct AdagradRule {
  static constexpr std::string_view torch_signature =
      "Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value, eps, foreach, *, "
      "maximize)";
  static constexpr OptionSpec options[] = {
      {"lr", 1e-2, Check::non_negative, "learning rate"},
      {"lr_decay", 0.0, Check::non_negative, "lr / (1 + (t - 1) * lr_decay)"},
      {"eps", 1e-10, Check::non_negative, "added to the denominator"},
      {"weight_decay", 0.0, Check::non_negative, "L2 penalty added to g"},
      {"initial_accumulator_value", 0.0, Check::non_negative, "where sum starts"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { sum };
  static constexpr StateSpec states[] = {{"sum", {}, "initial_accumulator_value", true}};
  // torch creates every tensor's sum up front, gradient or not.
  static constexpr bool eager_state = true;

  struct Flags {
    bool maximize, weight_decay;
  };
  template <class V>
  struct Coefs {
    V neg_clr, eps, weight_decay;
  };

  static void prepare(const GroupOptions& o, const StepInfo& s, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    const auto t = static_cast<double>(s.step);
    c = {.neg_clr = f32(-(o.get("lr") / (1.0 + (t - 1.0) * o.get("lr_decay")))),
         .eps = f32(o.get("eps")),
         .weight_decay = f32(o.get("weight_decay"))};
    f = {.maximize = o.flag("maximize"), .weight_decay = c.weight_decay != 0.0f};
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    const V p = x.param();
    V g = x.grad();
    if constexpr (F.maximize) g = ops::neg(g);
    if constexpr (F.weight_decay) g = g + c.weight_decay * p;
    const V s = x.state(sum) + g * g;
    x.set_state(sum, s);
    x.set_param(p + ops::div(c.neg_clr * g, ops::sqrt(s) + c.eps));
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(adagrad_step, AdagradRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/adagrad.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kAdagrad =
    detail::make_rule<detail::AdagradRule>("adagrad", detail::adagrad_step_kernel);
}  // namespace

GroupOptions AdagradOptions::to_group_options() const {
  return {{"lr", lr},
          {"lr_decay", lr_decay},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"initial_accumulator_value", initial_accumulator_value},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adagrad::Adagrad(std::vector<ParamSpec> params, AdagradOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kAdagrad, options.to_group_options(), runtime, std::move(params)) {}

Adagrad::Adagrad(AdagradOptions options, RuntimeOptions runtime) : Adagrad({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(adagrad, detail::registration_of<kAdagrad>())
#endif
