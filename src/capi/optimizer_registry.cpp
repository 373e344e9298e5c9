#include "optimizer_registry.hpp"

#include <stdexcept>
#include <string>

#include "simdoptim/lbfgs.hpp"
#include "simdoptim/optimizer_registry.hpp"

// The names, defaults and constructors come from the library's registry
// (simdoptim/optimizer_registry.hpp); this layer adds the one-call construction with a group the
// embeddings need, which LBFGS (validated at construction, one group) has to do its own way.
namespace simdoptim::embed {
namespace {

// LBFGS validates its options at construction, so overrides go into LbfgsOptions' dict first.
std::unique_ptr<Optimizer> make_lbfgs(std::vector<ParamSpec> params, const GroupOptions& overrides,
                                      RuntimeOptions runtime) {
  auto optimizer = std::make_unique<Lbfgs>(std::vector<ParamSpec>{}, LbfgsOptions{}, runtime);
  GroupOptions options = optimizer->defaults();
  for (const auto& [key, value] : overrides.items()) {
    if (!options.contains(key) && key != "initial_lr" && key != "lr_scale")
      throw std::invalid_argument("unknown option '" + key + "' for optimizer 'lbfgs'");
    options.set(key, value);
  }
  optimizer->validate(options);
  // Lbfgs has exactly one group; rebuild it with the parameters and the checked options.
  LbfgsOptions o;
  o.lr = options.get("lr");
  o.max_iter = static_cast<std::int64_t>(options.get("max_iter"));
  // torch: an absent max_eval is max_iter * 5 / 4 of the max_iter given.
  if (overrides.contains("max_eval"))
    o.max_eval = static_cast<std::int64_t>(options.get("max_eval"));
  o.tolerance_grad = options.get("tolerance_grad");
  o.tolerance_change = options.get("tolerance_change");
  o.history_size = static_cast<std::int64_t>(options.get("history_size"));
  o.strong_wolfe = options.flag("strong_wolfe");
  auto result = std::make_unique<Lbfgs>(std::move(params), o, runtime);
  for (const char* extra : {"initial_lr", "lr_scale"})
    if (overrides.contains(extra))
      result->param_groups().front().options().set(extra, overrides.get(extra));
  return result;
}

}  // namespace

std::vector<std::string> registered_optimizers() {
  return simdoptim::registered_optimizers();
}

GroupOptions registered_defaults(std::string_view name) {
  return make_optimizer(name, RuntimeOptions{Isa::scalar, 1})->defaults();
}

std::unique_ptr<Optimizer> make_registered(std::string_view name, std::vector<ParamSpec> params,
                                           const GroupOptions& overrides, RuntimeOptions runtime) {
  std::unique_ptr<Optimizer> optimizer = make_optimizer(name, runtime);  // checks the name
  if (name == "lbfgs") return make_lbfgs(std::move(params), overrides, runtime);
  optimizer->add_param_group(std::move(params), overrides);
  return optimizer;
}

}  // namespace simdoptim::embed
