#pragma once
// Which group key a momentum-cycling scheduler drives.
#include <string>
#include <string_view>

#include "simdoptim/optimizer.hpp"

namespace simdoptim::detail {

/// "beta1" when the optimizer's defaults have it (Adam, AdamW), else "momentum" when they have
/// it (SGD); throws std::invalid_argument naming the scheduler and optimizer otherwise.
std::string momentum_key(std::string_view scheduler, const Optimizer& optimizer);

}  // namespace simdoptim::detail
