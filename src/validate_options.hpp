#pragma once
// Option checks shared by the optimizers; each throws std::invalid_argument naming the option
// and its value, as torch's constructors raise ValueError.
#include <string_view>

#include "simdoptim/group_options.hpp"

namespace simdoptim::detail {

// option >= 0 (NaN fails).
void require_non_negative(const GroupOptions& options, std::string_view key);
// lo <= option < hi (NaN fails).
void require_in_range(const GroupOptions& options, std::string_view key, double lo, double hi);
// option is 0 or 1.
void require_flag(const GroupOptions& options, std::string_view key);
// Throws "invalid <key>: <value> (<why>)".
[[noreturn]] void invalid_option(std::string_view key, double value, std::string_view why);

}  // namespace simdoptim::detail
