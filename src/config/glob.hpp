#pragma once
// Shell-style glob matching of parameter names for TRAIN.PARAM_OVERRIDES.
#include <string_view>

namespace simdoptim::detail {

/// True when `pattern` matches the whole of `name`. `*` matches any run of characters (dots
/// included, unlike a path glob), `?` one character, `[abc]` / `[a-z]` one of a set and `[!...]`
/// one character outside it; `\` makes the next character literal. A `[` without its `]` is a
/// literal. fnmatch(3) semantics without FNM_PATHNAME.
bool glob_match(std::string_view pattern, std::string_view name) noexcept;

}  // namespace simdoptim::detail
