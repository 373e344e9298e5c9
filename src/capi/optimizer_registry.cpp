#include "optimizer_registry.hpp"

#include "simdoptim/optimizer_registry.hpp"

// The names, defaults and constructors come from the library's registry
// (simdoptim/optimizer_registry.hpp); this layer adds the one-call construction with a group the
// embeddings need.
namespace simdoptim::embed {

std::vector<std::string> registered_optimizers() {
  return simdoptim::registered_optimizers();
}

GroupOptions registered_defaults(std::string_view name) {
  return make_optimizer(name, RuntimeOptions{Isa::scalar, 1})->defaults();
}

std::unique_ptr<Optimizer> make_registered(std::string_view name, std::vector<ParamSpec> params,
                                           const GroupOptions& overrides, RuntimeOptions runtime) {
  std::unique_ptr<Optimizer> optimizer = make_optimizer(name, runtime);
  optimizer->add_param_group(std::move(params), overrides);
  return optimizer;
}

}  // namespace simdoptim::embed
