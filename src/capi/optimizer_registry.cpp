#include "capi/optimizer_registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "simdoptim/adadelta.hpp"
#include "simdoptim/adafactor.hpp"
#include "simdoptim/adagrad.hpp"
#include "simdoptim/adam.hpp"
#include "simdoptim/adamax.hpp"
#include "simdoptim/asgd.hpp"
#include "simdoptim/lamb.hpp"
#include "simdoptim/lars.hpp"
#include "simdoptim/lbfgs.hpp"
#include "simdoptim/lion.hpp"
#include "simdoptim/nadam.hpp"
#include "simdoptim/radam.hpp"
#include "simdoptim/rmsprop.hpp"
#include "simdoptim/rprop.hpp"
#include "simdoptim/sgd.hpp"

namespace simdoptim::embed {
namespace {

// An optimizer with its defaults and no param group yet.
template <class Opt, class Options>
std::unique_ptr<Optimizer> make_empty(RuntimeOptions runtime) {
  return std::make_unique<Opt>(Options{}, runtime);
}

struct Entry {
  std::string_view name;
  // Null for an optimizer that takes its parameters at construction (LBFGS: one group only).
  std::unique_ptr<Optimizer> (*make)(RuntimeOptions);
};

// Sorted by name; adding an optimizer is one row.
constexpr Entry kEntries[] = {
    {"adadelta", &make_empty<Adadelta, AdadeltaOptions>},
    {"adafactor", &make_empty<Adafactor, AdafactorOptions>},
    {"adagrad", &make_empty<Adagrad, AdagradOptions>},
    {"adam", &make_empty<Adam, AdamOptions>},
    {"adamax", &make_empty<Adamax, AdamaxOptions>},
    {"adamw",
     [](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
       return std::make_unique<AdamW>(adamw_defaults(), r);
     }},
    {"asgd", &make_empty<ASGD, ASGDOptions>},
    {"lamb", &make_empty<Lamb, LambOptions>},
    {"lars", &make_empty<Lars, LarsOptions>},
    {"lbfgs", nullptr},
    {"lion", &make_empty<Lion, LionOptions>},
    {"nadam", &make_empty<NAdam, NAdamOptions>},
    {"radam", &make_empty<RAdam, RAdamOptions>},
    {"rmsprop", &make_empty<RMSprop, RMSpropOptions>},
    {"rprop", &make_empty<Rprop, RpropOptions>},
    {"sgd", &make_empty<SGD, SGDOptions>},
};

const Entry& find_entry(std::string_view name) {
  for (const Entry& e : kEntries)
    if (e.name == name) return e;
  std::string list;
  for (const Entry& e : kEntries) list += (list.empty() ? "" : ", ") + std::string(e.name);
  throw std::invalid_argument("unknown optimizer '" + std::string(name) + "' (valid: " + list +
                              ")");
}

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
  std::vector<std::string> names;
  for (const Entry& e : kEntries) names.emplace_back(e.name);
  return names;
}

GroupOptions registered_defaults(std::string_view name) {
  const Entry& e = find_entry(name);
  const RuntimeOptions runtime{Isa::scalar, 1};
  if (e.make == nullptr) return Lbfgs({}, LbfgsOptions{}, runtime).defaults();
  return e.make(runtime)->defaults();
}

std::unique_ptr<Optimizer> make_registered(std::string_view name, std::vector<ParamSpec> params,
                                           const GroupOptions& overrides, RuntimeOptions runtime) {
  const Entry& e = find_entry(name);
  if (e.make == nullptr) return make_lbfgs(std::move(params), overrides, runtime);
  std::unique_ptr<Optimizer> optimizer = e.make(runtime);
  optimizer->add_param_group(std::move(params), overrides);
  return optimizer;
}

}  // namespace simdoptim::embed
