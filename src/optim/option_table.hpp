#pragma once
// The checks of an option table (optim/rule.hpp's OptionSpec rows), shared by the elementwise
// driver and the hand-written multi-pass optimizers.
#include <span>

#include "optim/rule.hpp"
#include "simdoptim/group_options.hpp"

namespace simdoptim::detail {

// Checks every option of `table` in `options` by its Check (Check::custom is left to the
// optimizer's own checks); throws std::invalid_argument naming the first bad option and value.
void validate_options(std::span<const OptionSpec> table, const GroupOptions& options);

}  // namespace simdoptim::detail
