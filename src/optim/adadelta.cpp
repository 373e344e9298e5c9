// Adadelta (torch.optim.Adadelta, 1.13); formula in include/simdoptim/adadelta.hpp.
#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

struct AdadeltaRule {
  static constexpr std::string_view torch_signature =
      "Adadelta(params, lr, rho, eps, weight_decay, foreach, *, maximize)";
  static constexpr OptionSpec options[] = {
      {"lr", 1.0, Check::non_negative, "scale of the delta"},
      {"rho", 0.9, Check::unit_closed, "decay of the running means"},
      {"eps", 1e-6, Check::non_negative, "added inside both square roots"},
      {"weight_decay", 0.0, Check::non_negative, "L2 penalty added to g"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { square_avg, acc_delta };
  static constexpr StateSpec states[] = {{"square_avg", {}, {}, true}, {"acc_delta", {}, {}, true}};

  struct Flags {
    bool maximize, weight_decay;
  };
  template <class V>
  struct Coefs {
    V neg_lr, rho, one_minus_rho, eps, weight_decay;
  };

  static void prepare(const GroupOptions& o, const StepInfo&, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    const double rho = o.get("rho");
    c = {.neg_lr = f32(-o.get("lr")),
         .rho = f32(rho),
         .one_minus_rho = f32(1.0 - rho),
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
    const V sq = x.state(square_avg) * c.rho + c.one_minus_rho * g * g;
    x.set_state(square_avg, sq);
    const V acc = x.state(acc_delta);
    const V delta = ops::div(ops::sqrt(acc + c.eps), ops::sqrt(sq + c.eps)) * g;
    x.set_state(acc_delta, acc * c.rho + c.one_minus_rho * delta * delta);
    x.set_param(p + c.neg_lr * delta);
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(adadelta_step, AdadeltaRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/adadelta.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kAdadelta =
    detail::make_rule<detail::AdadeltaRule>("adadelta", detail::adadelta_step_kernel);
}  // namespace

GroupOptions AdadeltaOptions::to_group_options() const {
  return {{"lr", lr},
          {"rho", rho},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adadelta::Adadelta(std::vector<ParamSpec> params, AdadeltaOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kAdadelta, options.to_group_options(), runtime, std::move(params)) {}

Adadelta::Adadelta(AdadeltaOptions options, RuntimeOptions runtime)
    : Adadelta({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(adadelta, detail::registration_of<kAdadelta>())
#endif
