#include "simdoptim/optimizer_registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "simdoptim/simdoptim.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

template <class Opt, class Options>
std::unique_ptr<Optimizer> make(RuntimeOptions runtime) {
  return std::make_unique<Opt>(Options{}, runtime);
}

struct Entry {
  std::string_view name;
  std::unique_ptr<Optimizer> (*make)(RuntimeOptions);
};

// Sorted by name; adding an optimizer is one row.
constexpr Entry kEntries[] = {
    {"adadelta", &make<Adadelta, AdadeltaOptions>},
    {"adafactor", &make<Adafactor, AdafactorOptions>},
    {"adagrad", &make<Adagrad, AdagradOptions>},
    {"adam", &make<Adam, AdamOptions>},
    {"adamax", &make<Adamax, AdamaxOptions>},
    {"adamw",
     [](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
       return std::make_unique<AdamW>(adamw_defaults(), r);
     }},
    {"asgd", &make<ASGD, ASGDOptions>},
    {"lamb", &make<Lamb, LambOptions>},
    {"lars", &make<Lars, LarsOptions>},
    {"lbfgs",
     [](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
       return std::make_unique<Lbfgs>(std::vector<ParamSpec>{}, LbfgsOptions{}, r);
     }},
    {"lion", &make<Lion, LionOptions>},
    {"nadam", &make<NAdam, NAdamOptions>},
    {"radam", &make<RAdam, RAdamOptions>},
    {"rmsprop", &make<RMSprop, RMSpropOptions>},
    {"rprop", &make<Rprop, RpropOptions>},
    {"sgd", &make<SGD, SGDOptions>},
};

}  // namespace

std::vector<std::string> registered_optimizers() {
  std::vector<std::string> names;
  for (const Entry& e : kEntries) names.emplace_back(e.name);
  return names;
}

std::unique_ptr<Optimizer> make_optimizer(std::string_view name, RuntimeOptions runtime) {
  for (const Entry& e : kEntries)
    if (e.name == name) return e.make(runtime);
  std::string valid;
  for (const Entry& e : kEntries) valid += (valid.empty() ? "" : ", ") + std::string(e.name);
  throw std::invalid_argument("unknown optimizer '" + std::string(name) + "' (valid: " + valid +
                              ")");
}

}  // namespace v1
}  // namespace simdoptim
