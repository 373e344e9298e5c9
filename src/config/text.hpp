#pragma once
// Small string helpers for the config, model spec and build_optimizer messages.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace simdoptim::detail {

/// ASCII lower case (optimizer names are matched case-insensitively, as the recipe's .lower()).
inline std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

/// The shortest %g text that reads back as `value` (0.0005, 1e-05, 0.999), as Python's repr.
inline std::string format_number(double value) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  return buf;
}

/// `items` joined with ", ".
inline std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

}  // namespace simdoptim::detail
