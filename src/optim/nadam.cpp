// NAdam (torch.optim.NAdam, 1.13); formula in include/simdoptim/nadam.hpp.
#include "optim/adam_moments.hpp"

namespace simdoptim::detail {
namespace {

struct NadamRule {
  static constexpr std::string_view torch_signature =
      "NAdam(params, lr, betas, eps, weight_decay, momentum_decay, foreach)";
  static constexpr auto options = adam_moment_options<1>(
      2e-3, {{{"momentum_decay", 4e-3, Check::non_negative, "mu_t's decay"}}});
  enum State { exp_avg, exp_avg_sq };
  static constexpr StateSpec states[] = {{"exp_avg"}, {"exp_avg_sq", {}, {}, true}};
  enum Scalar { mu_product };
  static constexpr TensorScalarSpec tensor_scalars[] = {{"mu_product", 1.0}};

  struct Flags {
    bool l2, decoupled;
  };
  template <class V>
  struct Coefs {
    V beta1, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor,
        bias_correction2, grad_coef, exp_avg_coef;
  };

  static void prepare(const GroupOptions& o, const StepInfo& s, std::span<double> scalars, Flags& f,
                      Coefs<float>& c) {
    prepare_adam_moments(o, c, f);
    const double lr = o.get("lr"), beta1 = o.get("beta1"), decay = o.get("momentum_decay");
    const auto t = static_cast<double>(s.step);
    const double mu = beta1 * (1.0 - 0.5 * std::pow(0.96, t * decay));
    const double mu_next = beta1 * (1.0 - 0.5 * std::pow(0.96, (t + 1.0) * decay));
    // torch 1.13 keeps mu_product as a float32 tensor and multiplies it by float32 scalars.
    const float product = f32(scalars[mu_product]) * f32(mu);
    const float product_next = product * f32(mu) * f32(mu_next);
    scalars[mu_product] = product;
    c.bias_correction2 = f32(1.0 - std::pow(o.get("beta2"), t));
    c.grad_coef = f32(-lr * (1.0 - mu) / (1.0 - static_cast<double>(product)));
    c.exp_avg_coef = f32(-lr * mu_next / (1.0 - static_cast<double>(product_next)));
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    V p = x.param(), g = x.grad(), m, v;
    adam_moments<F>(c, x, p, g, m, v, exp_avg, exp_avg_sq);
    const V denom = ops::sqrt(ops::div(v, c.bias_correction2)) + c.eps;
    p = p + ops::div(c.grad_coef * g, denom);
    p = p + ops::div(c.exp_avg_coef * m, denom);
    x.set_param(p);
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(nadam_step, NadamRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/nadam.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kNadam =
    detail::make_rule<detail::NadamRule>("nadam", detail::nadam_step_kernel);
}  // namespace

GroupOptions NAdamOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"momentum_decay", momentum_decay},
          {"decoupled_weight_decay", decoupled_weight_decay ? 1.0 : 0.0}};
}

NAdam::NAdam(std::vector<ParamSpec> params, NAdamOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kNadam, options.to_group_options(), runtime, std::move(params)) {}

NAdam::NAdam(NAdamOptions options, RuntimeOptions runtime) : NAdam({}, options, runtime) {}

double NAdam::mu_product(std::size_t group, std::size_t tensor) const {
  return tensor_scalar(group, tensor, "mu_product");
}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(nadam, detail::registration_of<kNadam>())
#endif
