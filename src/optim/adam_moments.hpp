#pragma once
// What NAdam and RAdam share with Adam: their common options, weight decay (L2, or decoupled as
// torch 2.x's decoupled_weight_decay) and the two moment updates, written once over V. A
// description using it has these members in its Coefs: beta1, one_minus_beta1, beta2,
// one_minus_beta2, eps, weight_decay, decay_factor; and l2, decoupled in its Flags.
#include <array>

#include "optim/rule_kernel.hpp"

namespace simdoptim::detail {
namespace {

constexpr std::array<OptionSpec, 6> kAdamMomentOptions = {{
    {"lr", 1e-3, Check::non_negative, "learning rate"},
    {"beta1", 0.9, Check::unit, "decay of the running mean of gradients (torch: betas[0])"},
    {"beta2", 0.999, Check::unit, "decay of the running mean of squares (torch: betas[1])"},
    {"eps", 1e-8, Check::non_negative, "added to the denominator"},
    {"weight_decay", 0.0, Check::non_negative, "L2 penalty, or decoupled decay"},
    {"decoupled_weight_decay", 0.0, Check::flag, "p *= 1 - lr * weight_decay instead of L2"},
}};

// kAdamMomentOptions with `more` before decoupled_weight_decay (torch's order), and `lr`'s
// default replaced by `lr`.
template <std::size_t N>
constexpr std::array<OptionSpec, 6 + N> adam_moment_options(double lr,
                                                            std::array<OptionSpec, N> more) {
  std::array<OptionSpec, 6 + N> all{};
  for (std::size_t i = 0; i < 5; ++i) all[i] = kAdamMomentOptions[i];
  all[0].default_value = lr;
  for (std::size_t i = 0; i < N; ++i) all[5 + i] = more[i];
  all[5 + N] = kAdamMomentOptions[5];
  return all;
}

template <class Coefs, class Flags>
void prepare_adam_moments(const GroupOptions& o, Coefs& c, Flags& f) {
  const double beta1 = o.get("beta1"), beta2 = o.get("beta2"), wd = o.get("weight_decay");
  const bool decoupled = o.flag("decoupled_weight_decay");
  c.beta1 = f32(beta1);
  c.one_minus_beta1 = f32(1.0 - beta1);
  c.beta2 = f32(beta2);
  c.one_minus_beta2 = f32(1.0 - beta2);
  c.eps = f32(o.get("eps"));
  c.weight_decay = decoupled ? 0.0f : f32(wd);
  c.decay_factor = decoupled ? f32(1.0 - o.get("lr") * wd) : 1.0f;
  f.l2 = c.weight_decay != 0.0f;
  f.decoupled = c.decay_factor != 1.0f;
}

// Decays p (decoupled) or g (L2), then m = beta1 m + (1 - beta1) g and
// v = beta2 v + (1 - beta2) g g, stored; returns them through m and v.
template <auto F, class V, class Coefs, class State>
void adam_moments(const Coefs& c, const auto& x, V& p, V& g, V& m, V& v, State exp_avg,
                  State exp_avg_sq) {
  if constexpr (F.decoupled) p = p * c.decay_factor;
  if constexpr (F.l2) g = g + c.weight_decay * p;
  m = x.state(exp_avg) * c.beta1 + c.one_minus_beta1 * g;
  v = x.state(exp_avg_sq) * c.beta2 + c.one_minus_beta2 * g * g;
  x.set_state(exp_avg, m);
  x.set_state(exp_avg_sq, v);
}

}  // namespace
}  // namespace simdoptim::detail
