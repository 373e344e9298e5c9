#pragma once
/// Every optimizer of the library by its lower-case name, for tools, bindings and configs.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
inline namespace v1 {

/// The lower-case names of every optimizer, sorted ("adadelta", ..., "sgd").
std::vector<std::string> registered_optimizers();

/// One option of an optimizer: its group-dict key, torch's default, a one-line description,
/// and whether it is a flag (0 or 1).
struct OptionInfo {
  std::string name;
  double default_value = 0.0;
  std::string doc;
  bool flag = false;
};

/// The options of optimizer `name` in the order of its group dict. Throws std::invalid_argument
/// for an unknown name.
std::vector<OptionInfo> optimizer_options(std::string_view name);

/// The state arrays optimizer `name` may keep per tensor (torch's state[p] keys other than
/// 'step' and per-tensor scalars). Throws std::invalid_argument for an unknown name.
std::vector<std::string> optimizer_state_names(std::string_view name);

/// A new optimizer with torch's defaults (as `torch.optim.<Name>(params)`), without groups;
/// options go in per group through add_param_group's overrides. Throws std::invalid_argument
/// listing the valid names for an unknown one.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, RuntimeOptions runtime = {});

}  // namespace v1
}  // namespace simdoptim
