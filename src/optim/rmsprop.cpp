// RMSprop (torch.optim.RMSprop, 1.13); formula in include/simdoptim/rmsprop.hpp.
#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

struct RmspropRule {
  static constexpr std::string_view torch_signature =
      "RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered, foreach, maximize, "
      "differentiable)";
  static constexpr OptionSpec options[] = {
      {"lr", 1e-2, Check::non_negative, "learning rate"},
      {"momentum", 0.0, Check::non_negative, "momentum factor"},
      {"alpha", 0.99, Check::non_negative, "smoothing constant of the running mean of squares"},
      {"eps", 1e-8, Check::non_negative, "added to the denominator"},
      {"centered", 0.0, Check::flag, "normalise by the estimated variance"},
      {"weight_decay", 0.0, Check::non_negative, "L2 penalty added to g"},
      {"maximize", 0.0, Check::flag, "ascend the objective"},
  };
  enum State { square_avg, momentum_buffer, grad_avg };
  static constexpr StateSpec states[] = {
      {"square_avg", {}, {}, true}, {"momentum_buffer", "momentum"}, {"grad_avg", "centered"}};

  struct Flags {
    bool maximize, weight_decay, centered, momentum;
  };
  template <class V>
  struct Coefs {
    V neg_lr, alpha, one_minus_alpha, eps, momentum, weight_decay;
  };

  static void prepare(const GroupOptions& o, const StepInfo&, std::span<double>, Flags& f,
                      Coefs<float>& c) {
    const double alpha = o.get("alpha");
    c = {.neg_lr = f32(-o.get("lr")),
         .alpha = f32(alpha),
         .one_minus_alpha = f32(1.0 - alpha),
         .eps = f32(o.get("eps")),
         .momentum = f32(o.get("momentum")),
         .weight_decay = f32(o.get("weight_decay"))};
    f = {.maximize = o.flag("maximize"),
         .weight_decay = c.weight_decay != 0.0f,
         .centered = o.flag("centered"),
         .momentum = o.get("momentum") != 0.0};
  }

  template <Flags F, class V>
  static void update(const Coefs<V>& c, const auto& x) {
    V p = x.param();
    V g = x.grad();
    if constexpr (F.maximize) g = ops::neg(g);
    if constexpr (F.weight_decay) g = g + c.weight_decay * p;
    const V sq = x.state(square_avg) * c.alpha + c.one_minus_alpha * g * g;
    x.set_state(square_avg, sq);
    V avg;
    if constexpr (F.centered) {
      const V ga = x.state(grad_avg) * c.alpha + c.one_minus_alpha * g;
      x.set_state(grad_avg, ga);
      avg = ops::sqrt(sq - ga * ga) + c.eps;
    } else {
      avg = ops::sqrt(sq) + c.eps;
    }
    if constexpr (F.momentum) {
      const V buf = x.state(momentum_buffer) * c.momentum + ops::div(g, avg);
      x.set_state(momentum_buffer, buf);
      p = p + c.neg_lr * buf;
    } else {
      p = p + ops::div(c.neg_lr * g, avg);
    }
    x.set_param(p);
  }
};

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_RULE_KERNEL(rmsprop_step, RmspropRule)

#if !defined(SIMDOPTIM_ISA_NS)
#include "optim/elementwise_rule.hpp"
#include "simdoptim/rmsprop.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {
constexpr detail::ElementwiseRule kRmsprop =
    detail::make_rule<detail::RmspropRule>("rmsprop", detail::rmsprop_step_kernel);
}  // namespace

GroupOptions RMSpropOptions::to_group_options() const {
  return {{"lr", lr},
          {"momentum", momentum},
          {"alpha", alpha},
          {"eps", eps},
          {"centered", centered ? 1.0 : 0.0},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

RMSprop::RMSprop(std::vector<ParamSpec> params, RMSpropOptions options, RuntimeOptions runtime)
    : ElementwiseOptimizer(kRmsprop, options.to_group_options(), runtime, std::move(params)) {}

RMSprop::RMSprop(RMSpropOptions options, RuntimeOptions runtime) : RMSprop({}, options, runtime) {}

}  // namespace v1
}  // namespace simdoptim
SIMDOPTIM_REGISTER(rmsprop, detail::registration_of<kRmsprop>())
#endif
