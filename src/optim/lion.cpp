// Lion (Chen et al. 2023; timm, optax); formula in include/simdoptim/lion.hpp.
#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

struct LionRule {
  static constexpr std::string_view torch_signature =
      "Lion(params, lr, betas, weight_decay, *, maximize)";
  static constexpr OptionSpec options[] = {
      {"lr", 1e-4, Check::non_negative, "learning rate"},
      {"beta1", 0.9, Check::unit, "interpolation of m and g for the sign"},
      {"beta2", 0.99, Check::unit, "decay of the momentum"},
      {"weight_decay", 0.0, Check::non_negative, "decoupled decay: p *= 1 - lr * weight_decay"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { exp_avg };
  static constexpr StateSpec states[] = {{"exp_avg"}};

  struct Flags {
    bool maximize, decay;
  };
  template <class V>
  struct Coefs {
    V neg_lr, beta1, one_minus_beta1, beta2, one_minus_beta2, decay_factor;
  };

  static void prepare(const GroupOptions& o, const StepInfo&, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    const double lr = o.get("lr"), beta1 = o.get("beta1"), beta2 = o.get("beta2");
    c = {.neg_lr = f32(-lr),
         .beta1 = f32(beta1),
         .one_minus_beta1 = f32(1.0 - beta1),
         .beta2 = f32(beta2),
         .one_minus_beta2 = f32(1.0 - beta2),
         .decay_factor = f32(1.0 - lr * o.get("weight_decay"))};
    f = {.maximize = o.flag("maximize"), .decay = c.decay_factor != 1.0f};
  }

  // torch.sign from comparisons: +1, -1, or x itself for +-0 and NaN.
  template <class V>
  static V sign(V x) {
    const V zero(0.0f);
    return ops::select(x > zero, V(1.0f), ops::select(x < zero, V(-1.0f), x));
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    V p = x.param();
    V g = x.grad();
    if constexpr (F.maximize) g = ops::neg(g);
    const V m = x.state(exp_avg);
    if constexpr (F.decay) p = p * c.decay_factor;
    x.set_param(p + c.neg_lr * sign(m * c.beta1 + c.one_minus_beta1 * g));
    x.set_state(exp_avg, m * c.beta2 + c.one_minus_beta2 * g);
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(lion_step, LionRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/lion.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kLion =
    detail::make_rule<detail::LionRule>("lion", detail::lion_step_kernel);
}  // namespace

GroupOptions LionOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Lion::Lion(std::vector<ParamSpec> params, LionOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kLion, options.to_group_options(), runtime, std::move(params)) {}

Lion::Lion(LionOptions options, RuntimeOptions runtime) : Lion({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(lion, detail::registration_of<kLion>())
#endif
