// Adamax (torch.optim.Adamax, 1.13); formula in include/simdoptim/adamax.hpp.
#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

struct AdamaxRule {
  static constexpr std::string_view torch_signature =
      "Adamax(params, lr, betas, eps, weight_decay, foreach, *, maximize)";
  static constexpr OptionSpec options[] = {
      {"lr", 2e-3, Check::non_negative, "learning rate"},
      {"beta1", 0.9, Check::unit, "decay of the running mean of gradients (torch: betas[0])"},
      {"beta2", 0.999, Check::unit, "decay of the infinity norm (torch: betas[1])"},
      {"eps", 1e-8, Check::non_negative, "added to |g| inside the max"},
      {"weight_decay", 0.0, Check::non_negative, "L2 penalty added to g"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { exp_avg, exp_inf };
  static constexpr StateSpec states[] = {{"exp_avg"}, {"exp_inf", {}, {}, true}};

  struct Flags {
    bool maximize, weight_decay;
  };
  template <class V>
  struct Coefs {
    V beta1, one_minus_beta1, beta2, neg_clr, eps, weight_decay;
  };

  static void prepare(const GroupOptions& o, const StepInfo& s, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    const double beta1 = o.get("beta1");
    const auto t = static_cast<double>(s.step);
    c = {.beta1 = f32(beta1),
         .one_minus_beta1 = f32(1.0 - beta1),
         .beta2 = f32(o.get("beta2")),
         .neg_clr = f32(-(o.get("lr") / (1.0 - std::pow(beta1, t)))),
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
    const V m = x.state(exp_avg) * c.beta1 + c.one_minus_beta1 * g;
    const V u = ops::nan_max(x.state(exp_inf) * c.beta2, ops::abs(g) + c.eps);
    x.set_state(exp_avg, m);
    x.set_state(exp_inf, u);
    x.set_param(p + ops::div(c.neg_clr * m, u));
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(adamax_step, AdamaxRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/adamax.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kAdamax =
    detail::make_rule<detail::AdamaxRule>("adamax", detail::adamax_step_kernel);
}  // namespace

GroupOptions AdamaxOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adamax::Adamax(std::vector<ParamSpec> params, AdamaxOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kAdamax, options.to_group_options(), runtime, std::move(params)) {}

Adamax::Adamax(AdamaxOptions options, RuntimeOptions runtime) : Adamax({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(adamax, detail::registration_of<kAdamax>())
#endif
