#pragma once
// Settings read from the environment.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>

namespace simdoptim::detail {

// The integer in 1..max that environment variable `name` holds; none when it is unset or empty.
// Anything else throws std::invalid_argument naming the variable and its value.
inline std::optional<std::uint64_t> positive_from_env(const char* name, std::uint64_t max) {
  const char* env = std::getenv(name);
  if (env == nullptr || *env == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(env, &end, 10);
  if (*end != '\0' || *env == '-' || n < 1 || n > max)
    throw std::invalid_argument(std::string(name) + " must be an integer from 1 to " +
                                std::to_string(max) + ", got '" + env + "'");
  return n;
}

}  // namespace simdoptim::detail
