#pragma once
// yaml-cpp helpers shared by the config and model spec readers: error locations, value text for
// messages, strict key checks. Private: public headers never include yaml-cpp.
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/text.hpp"

namespace simdoptim::detail {

/// "source:line:column: " for `node` (1-based), or "source: " when the node has no position.
std::string where(std::string_view source, const YAML::Node& node);

/// `node` as short text for an error message: 'text' for a scalar, flow YAML otherwise.
std::string value_text(const YAML::Node& node);

/// Parses YAML (or JSON) text; a syntax error becomes std::invalid_argument with its position.
YAML::Node parse_yaml(std::string_view text, std::string_view source);

/// The whole file; throws std::invalid_argument naming `what`, the path and the reason.
std::string read_text_file(const std::string& path, std::string_view what);

/// The candidate closest to `key` by edit distance when it is close enough to be a typo, or "".
std::string closest_match(std::string_view key, const std::vector<std::string>& candidates);

/// Throws std::invalid_argument: "<where>unknown <kind> key 'PATH' (did you mean 'X'?); valid
/// keys [under SECTION]: A, B, C". `key` is the offending key node, `section` the path of the
/// enclosing mapping ("" at the top), `valid` its keys.
[[noreturn]] void throw_unknown_key(std::string_view source, std::string_view kind,
                                    const YAML::Node& key, std::string_view section,
                                    const std::vector<std::string>& valid);

/// Throws std::invalid_argument: "<where><kind> key PATH = VALUE: expected EXPECTED".
[[noreturn]] void throw_bad_value(std::string_view source, std::string_view kind,
                                  const YAML::Node& node, std::string_view path,
                                  std::string_view expected);

/// "a.b" from a section path and a key ("b" when the section is empty).
std::string join_path(std::string_view section, std::string_view key);

}  // namespace simdoptim::detail
