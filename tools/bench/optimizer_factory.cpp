#include "bench/optimizer_factory.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/optimizer_registry.hpp"

namespace simdoptim::bench {

// Every optimizer of the library's registry that steps without a closure (not LBFGS).
std::vector<std::string> bench_optimizer_names() {
  std::vector<std::string> names;
  for (const std::string& n : registered_optimizers())
    if (n != "lbfgs") names.push_back(n);
  return names;
}

void check_optimizer_name(const std::string& name) {
  const auto names = bench_optimizer_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return;
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  throw std::invalid_argument("unknown optimizer '" + name + "' (valid: " + list + ")");
}

GroupOptions optimizer_defaults(const std::string& name) {
  check_optimizer_name(name);
  return make_optimizer(name, RuntimeOptions{Isa::scalar, 1})->defaults();
}

std::unique_ptr<Optimizer> make_optimizer(const OptimizerRecipe& recipe, const Workload& workload,
                                          RuntimeOptions runtime) {
  std::unique_ptr<Optimizer> optimizer;
  if (recipe.config) {
    optimizer = build_optimizer(*recipe.config, workload.model, runtime);
  } else {
    check_optimizer_name(recipe.name);
    optimizer = make_optimizer(recipe.name, runtime);
    optimizer->add_param_group(workload.trainable_params(), recipe.overrides, recipe.storage);
  }
  if (recipe.keep_subnormal_state) optimizer->set_flush_subnormal_state(false);
  return optimizer;
}

}  // namespace simdoptim::bench
