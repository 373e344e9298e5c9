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

/// A new optimizer with torch's defaults (as `torch.optim.<Name>(params)`), without groups;
/// options go in per group through add_param_group's overrides. Throws std::invalid_argument
/// listing the valid names for an unknown one.
std::unique_ptr<Optimizer> make_optimizer(std::string_view name, RuntimeOptions runtime = {});

}  // namespace v1
}  // namespace simdoptim
