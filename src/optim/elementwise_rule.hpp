#pragma once
// A description (optim/rule.hpp) seen by the host: its tables and two functions, the same type
// for every optimizer, so that one driver (optim/elementwise_optimizer.cpp) steps them all.
#include <cstddef>
#include <span>
#include <string_view>

#include "optim/registration.hpp"
#include "optim/rule_kernel.hpp"
#include "simdoptim/group_options.hpp"

namespace simdoptim::detail {

struct ElementwiseRule {
  std::string_view name;
  std::span<const OptionSpec> options;
  std::span<const StateSpec> states;
  std::span<const TensorScalarSpec> tensor_scalars;
  // torch's constructor, names only (optim/rule.hpp); empty: none.
  std::string_view torch_signature;
  // Whether torch's state[p] has 'step'.
  bool torch_step = true;
  // Every tensor's state is created at the first step, with or without a gradient (Adagrad's
  // sum, which torch creates in the constructor); otherwise a tensor's at its own first step.
  bool eager_state = false;
  // Checks beyond the option table (or null).
  void (*validate)(const GroupOptions& options) = nullptr;
  // Checks of a new group only, as torch's constructor makes them; options changed later are
  // not held to them (or null).
  void (*validate_new_group)(const GroupOptions& options) = nullptr;
  // Fills args.coef and args.flags for one call; may update the tensors' scalars.
  void (*prepare)(const GroupOptions& options, const StepInfo& step, std::span<double> scalars,
                  ElementwiseArgs& args) = nullptr;
  KernelFn<ElementwiseArgs> (*kernel)(Isa isa) noexcept = nullptr;
};

// The ElementwiseRule of description `Rule` named `name`, whose kernels `kernel` picks.
template <class Rule>
constexpr ElementwiseRule make_rule(std::string_view name,
                                    KernelFn<ElementwiseArgs> (*kernel)(Isa) noexcept) {
  ElementwiseRule r;
  r.name = name;
  r.options = Rule::options;
  r.states = Rule::states;
  if constexpr (requires { Rule::tensor_scalars; }) r.tensor_scalars = Rule::tensor_scalars;
  if constexpr (requires { Rule::eager_state; }) r.eager_state = Rule::eager_state;
  if constexpr (requires { Rule::torch_signature; }) r.torch_signature = Rule::torch_signature;
  if constexpr (requires { Rule::torch_step; }) r.torch_step = Rule::torch_step;
  if constexpr (requires(const GroupOptions& o) { Rule::validate(o); })
    r.validate = &Rule::validate;
  if constexpr (requires(const GroupOptions& o) { Rule::validate_new_group(o); })
    r.validate_new_group = &Rule::validate_new_group;
  r.prepare = [](const GroupOptions& o, const StepInfo& step, std::span<double> scalars,
                 ElementwiseArgs& args) {
    typename Rule::Flags flags{};
    typename Rule::template Coefs<float> coefs{};
    Rule::prepare(o, step, scalars, flags, coefs);
    args.flags = flag_bits(flags);
    pack_coefs<Rule>(coefs, args);
  };
  r.kernel = kernel;
  return r;
}

// An optimizer of `rule` with the defaults of its option table.
std::unique_ptr<Optimizer> make_elementwise(const ElementwiseRule& rule, RuntimeOptions runtime);

// The registration of `Rule`, a constexpr ElementwiseRule.
template <const ElementwiseRule& Rule>
constexpr Registration registration_of() {
  return {.name = Rule.name,
          .options = Rule.options,
          .states = Rule.states,
          .make = [](RuntimeOptions r) { return make_elementwise(Rule, r); },
          .torch_signature = Rule.torch_signature,
          .tensor_scalars = Rule.tensor_scalars,
          .torch_step = Rule.torch_step,
          .rule = &Rule};
}

}  // namespace simdoptim::detail
