#pragma once
// How an optimizer joins the registry (src/optimizer_registry.cpp). Its source file
// src/optim/<file>.cpp ends with SIMDOPTIM_REGISTER(<file>, registration...), and listing the
// file in src/CMakeLists.txt (SIMDOPTIM_OPTIMIZER_DESCRIPTIONS for elementwise descriptions,
// SIMDOPTIM_OPTIMIZER_SOURCES for host-only optimizers) is all the rest: the registry,
// make_optimizer, the C API, Python, the bench tool and the tests' lists of names all read the
// registrations.
#include <memory>
#include <span>
#include <string_view>

#include "optim/rule.hpp"
#include "simdoptim/optimizer.hpp"

namespace simdoptim::detail {

struct ElementwiseRule;

struct Registration {
  std::string_view name;
  std::span<const OptionSpec> options = {};  // in the order of the group dict
  std::span<const StateSpec> states = {};
  std::unique_ptr<Optimizer> (*make)(RuntimeOptions runtime) = nullptr;  // torch's defaults
  std::string_view torch_signature = {};  // names only (optim/rule.hpp); empty: none
  std::span<const TensorScalarSpec> tensor_scalars = {};
  bool torch_step = true;  // torch's state[p] has 'step'
  const ElementwiseRule* rule =
      nullptr;  // an elementwise description's (optim/elementwise_rule.hpp)
};

// The registration of optimizer `name`, or nullptr for an optimizer defined outside the library.
const Registration* find_registration(std::string_view name);

// The defaults of an option table, in its order.
inline GroupOptions defaults_of(std::span<const OptionSpec> options) {
  GroupOptions g;
  for (const OptionSpec& o : options) g.set(o.name, o.default_value);
  return g;
}

}  // namespace simdoptim::detail

// Defines the registrations of src/optim/<file>.cpp. Use at global scope, outside the
// instruction sets' builds.
#define SIMDOPTIM_REGISTER(file, ...)                          \
  namespace simdoptim::detail {                                \
  std::span<const Registration> registrations_##file() {       \
    static const Registration registrations[] = {__VA_ARGS__}; \
    return registrations;                                      \
  }                                                            \
  }
