// Adam and AdamW (torch.optim.Adam / AdamW, 1.13); formula in include/simdoptim/adam.hpp.
#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <bool Decoupled>
struct AdamRule {
  static constexpr std::string_view torch_signature =
      Decoupled ? "AdamW(params, lr, betas, eps, weight_decay, amsgrad, *, maximize, foreach, "
                  "capturable)"
                : "Adam(params, lr, betas, eps, weight_decay, amsgrad, *, foreach, maximize, "
                  "capturable, differentiable, fused)";
  static constexpr OptionSpec options[] = {
      {"lr", 1e-3, Check::non_negative, "learning rate"},
      {"beta1", 0.9, Check::unit, "decay of the running mean of gradients (torch: betas[0])"},
      {"beta2", 0.999, Check::unit, "decay of the running mean of squares (torch: betas[1])"},
      {"eps", 1e-8, Check::non_negative, "added to the denominator"},
      {"weight_decay", Decoupled ? 1e-2 : 0.0, Check::non_negative,
       Decoupled ? "decoupled decay: p *= 1 - lr * weight_decay" : "L2 penalty added to g"},
      {"amsgrad", 0.0, Check::flag, "divide by the running maximum of v"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { exp_avg, exp_avg_sq, max_exp_avg_sq };
  static constexpr StateSpec states[] = {
      {"exp_avg"}, {"exp_avg_sq", {}, {}, true}, {"max_exp_avg_sq", "amsgrad", {}, true}};

  struct Flags {
    bool maximize, l2, decoupled, amsgrad;
  };
  template <class V>
  struct Coefs {
    V beta1, one_minus_beta1, beta2, one_minus_beta2, neg_step_size, inv_bias_correction2_sqrt, eps,
        weight_decay, decay_factor;
  };

  static void prepare(const GroupOptions& o, const StepInfo& s, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    const double lr = o.get("lr"), beta1 = o.get("beta1"), beta2 = o.get("beta2");
    const double wd = o.get("weight_decay");
    const auto t = static_cast<double>(s.step);
    c = {.beta1 = f32(beta1),
         .one_minus_beta1 = f32(1.0 - beta1),
         .beta2 = f32(beta2),
         .one_minus_beta2 = f32(1.0 - beta2),
         .neg_step_size = f32(-(lr / (1.0 - std::pow(beta1, t)))),
         .inv_bias_correction2_sqrt = f32(1.0 / std::sqrt(1.0 - std::pow(beta2, t))),
         .eps = f32(o.get("eps")),
         .weight_decay = f32(wd),
         .decay_factor = f32(1.0 - lr * wd)};
    f = {.maximize = o.flag("maximize"),
         .l2 = !Decoupled && c.weight_decay != 0.0f,
         .decoupled = Decoupled && c.decay_factor != 1.0f,
         .amsgrad = o.flag("amsgrad")};
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    V p = x.param();
    V g = x.grad();
    if constexpr (F.maximize) g = ops::neg(g);
    if constexpr (F.decoupled) p = p * c.decay_factor;
    if constexpr (F.l2) g = g + c.weight_decay * p;
    const V m = x.state(exp_avg) * c.beta1 + c.one_minus_beta1 * g;
    V v = x.state(exp_avg_sq) * c.beta2 + c.one_minus_beta2 * g * g;
    x.set_state(exp_avg, m);
    x.set_state(exp_avg_sq, v);
    if constexpr (F.amsgrad) {
      v = ops::nan_max(x.state(max_exp_avg_sq), v);
      x.set_state(max_exp_avg_sq, v);
    }
    const V denom = ops::sqrt(v) * c.inv_bias_correction2_sqrt + c.eps;
    x.set_param(p + c.neg_step_size * ops::div(m, denom));
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(adam_step, AdamRule<false>)
SIMDOPTIM_RULE_KERNEL(adamw_step, AdamRule<true>)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/adam.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kAdam =
    detail::make_rule<detail::AdamRule<false>>("adam", detail::adam_step_kernel);
constexpr detail::ElementwiseRule kAdamW =
    detail::make_rule<detail::AdamRule<true>>("adamw", detail::adamw_step_kernel);
}  // namespace

GroupOptions AdamOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"amsgrad", amsgrad ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adam::Adam(std::vector<ParamSpec> params, AdamOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kAdam, options.to_group_options(), runtime, std::move(params)) {}

Adam::Adam(AdamOptions options, RuntimeOptions runtime) : Adam({}, options, runtime) {}

GroupOptions AdamWOptions::to_group_options() const {
  return AdamOptions{lr, beta1, beta2, eps, weight_decay, amsgrad, maximize}.to_group_options();
}

AdamW::AdamW(std::vector<ParamSpec> params, AdamWOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kAdamW, options.to_group_options(), runtime, std::move(params)) {}

AdamW::AdamW(AdamWOptions options, RuntimeOptions runtime) : AdamW({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(adam, detail::registration_of<kAdam>(), detail::registration_of<kAdamW>())
#endif
