// SGD (torch.optim.SGD, 1.13); formula in include/simdoptim/sgd.hpp.
#include "optim/rule_kernel.hpp"
#include "validate_options.hpp"

namespace simdoptim::detail {
namespace {

struct SgdRule {
  static constexpr std::string_view torch_signature =
      "SGD(params, lr=required, momentum, dampening, weight_decay, nesterov, *, maximize, foreach, "
      "differentiable)";
  static constexpr bool torch_step = false;  // torch's SGD counts no steps
  static constexpr OptionSpec options[] = {
      {"lr", 1e-3, Check::non_negative, "learning rate (torch requires it; 1e-3 here)"},
      {"momentum", 0.0, Check::non_negative, "momentum factor"},
      {"dampening", 0.0, Check::non_negative, "dampening of the momentum"},
      {"weight_decay", 0.0, Check::non_negative, "L2 penalty added to g"},
      {"nesterov", 0.0, Check::flag, "Nesterov momentum"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { momentum_buffer };
  static constexpr StateSpec states[] = {{"momentum_buffer", "momentum"}};

  // torch checks this in the constructor only, and steps a group whose dampening or momentum
  // changed later (the update is defined for any values).
  static void validate_new_group(const GroupOptions& o) {
    if (o.flag("nesterov") && (o.get("momentum") <= 0.0 || o.get("dampening") != 0.0))
      invalid_option("nesterov", 1.0, "requires momentum > 0 and dampening == 0");
  }

  struct Flags {
    bool maximize, weight_decay, momentum, first_step, nesterov;
  };
  template <class V>
  struct Coefs {
    V neg_lr, momentum, one_minus_dampening, weight_decay;
  };

  static void prepare(const GroupOptions& o, const StepInfo& s, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    const double momentum = o.get("momentum");
    c = {.neg_lr = f32(-o.get("lr")),
         .momentum = f32(momentum),
         .one_minus_dampening = f32(1.0 - o.get("dampening")),
         .weight_decay = f32(o.get("weight_decay"))};
    // A tensor without a momentum buffer yet starts it as a copy of its gradient (torch).
    f = {.maximize = o.flag("maximize"),
         .weight_decay = c.weight_decay != 0.0f,
         .momentum = momentum != 0.0,
         .first_step = momentum != 0.0 && s.first,
         .nesterov = o.flag("nesterov")};
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    const V p = x.param();
    V d = x.grad();
    if constexpr (F.maximize) d = ops::neg(d);
    if constexpr (F.weight_decay) d = d + c.weight_decay * p;
    if constexpr (F.momentum) {
      V buf = d;
      if constexpr (!F.first_step)
        buf = x.state(momentum_buffer) * c.momentum + c.one_minus_dampening * d;
      x.set_state(momentum_buffer, buf);
      d = F.nesterov ? d + c.momentum * buf : buf;
    }
    x.set_param(p + c.neg_lr * d);
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(sgd_step, SgdRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/sgd.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kSgd =
    detail::make_rule<detail::SgdRule>("sgd", detail::sgd_step_kernel);
}  // namespace

GroupOptions SGDOptions::to_group_options() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"dampening", dampening},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

SGD::SGD(std::vector<ParamSpec> params, SGDOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kSgd, options.to_group_options(), runtime, std::move(params)) {}

SGD::SGD(SGDOptions options, RuntimeOptions runtime) : SGD({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(sgd, detail::registration_of<kSgd>())
#endif
