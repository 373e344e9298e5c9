#pragma once
// Every optimizer of the library by name, for the embedding layers (C API, Python module): the
// name of Optimizer::name(), torch's defaults, and construction from option overrides.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/group_options.hpp"
#include "simdoptim/optimizer.hpp"
#include "simdoptim/types.hpp"

namespace simdoptim::embed {

// Every registered optimizer name, sorted ("adadelta", ..., "sgd").
std::vector<std::string> registered_optimizers();

// The default options of optimizer `name` (its option keys and torch's default values). Throws
// std::invalid_argument listing registered_optimizers() when the name is unknown.
GroupOptions registered_defaults(std::string_view name);

// Optimizer `name` with its defaults and one param group holding `params` with `overrides`
// (optimizer option keys, initial_lr, lr_scale). Throws std::invalid_argument on an unknown
// name or a bad option, as Optimizer::add_param_group.
std::unique_ptr<Optimizer> make_registered(std::string_view name, std::vector<ParamSpec> params,
                                           const GroupOptions& overrides, RuntimeOptions runtime);

}  // namespace simdoptim::embed
