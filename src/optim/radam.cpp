// RAdam (torch.optim.RAdam, 1.13, plus torch 2.x's decoupled_weight_decay); formula in
// include/simdoptim/radam.hpp.
#include "optim/adam_moments.hpp"

namespace simdoptim::detail {
namespace {

struct RadamRule {
  static constexpr std::string_view torch_signature =
      "RAdam(params, lr, betas, eps, weight_decay, foreach)";
  static constexpr auto options = adam_moment_options<0>(1e-3, {});
  enum State { exp_avg, exp_avg_sq };
  static constexpr StateSpec states[] = {{"exp_avg"}, {"exp_avg_sq", {}, {}, true}};

  struct Flags {
    bool l2, decoupled, rectified;
  };
  template <class V>
  struct Coefs {
    V beta1, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay, decay_factor,
        neg_step_size;
  };

  static void prepare(const GroupOptions& o, const StepInfo& s, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    prepare_adam_moments(o, c, f);
    const double lr = o.get("lr"), beta1 = o.get("beta1"), beta2 = o.get("beta2");
    const auto t = static_cast<double>(s.step);
    const double bias_correction1 = 1.0 - std::pow(beta1, t);
    const double bias_correction2 = 1.0 - std::pow(beta2, t);
    const double rho_inf = 2.0 / (1.0 - beta2) - 1.0;
    const double rho_t = rho_inf - 2.0 * t * std::pow(beta2, t) / bias_correction2;
    f.rectified = rho_t > 5.0;
    if (f.rectified) {
      const double rect = std::sqrt((rho_t - 4.0) * (rho_t - 2.0) * rho_inf /
                                    ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t));
      c.neg_step_size = f32(-(lr * rect * std::sqrt(bias_correction2)) / bias_correction1);
    } else {
      c.neg_step_size = f32(-lr / bias_correction1);
    }
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    V p = x.param(), g = x.grad(), m, v;
    adam_moments<F>(c, x, p, g, m, v, exp_avg, exp_avg_sq);
    if constexpr (F.rectified)
      p = p + c.neg_step_size * ops::div(m, ops::sqrt(v) + c.eps);
    else
      p = p + c.neg_step_size * m;
    x.set_param(p);
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(radam_step, RadamRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/radam.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kRadam =
    detail::make_rule<detail::RadamRule>("radam", detail::radam_step_kernel);
}  // namespace

GroupOptions RAdamOptions::to_group_options() const {
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"decoupled_weight_decay", decoupled_weight_decay ? 1.0 : 0.0}};
}

RAdam::RAdam(std::vector<ParamSpec> params, RAdamOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kRadam, options.to_group_options(), runtime, std::move(params)) {}

RAdam::RAdam(RAdamOptions options, RuntimeOptions runtime) : RAdam({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(radam, detail::registration_of<kRadam>())
#endif
