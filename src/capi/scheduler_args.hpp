#pragma once
// The key/value arguments of simdoptim_scheduler_create: typed access, required keys, repeated
// keys as lists, and a final check that every key was used.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simdoptim/simdoptim.h"

namespace simdoptim::capi {

class SchedulerArgs {
 public:
  SchedulerArgs(std::string kind, const simdoptim_option* options, std::size_t count);

  // The value of `key` when given once; throws when given several times.
  std::optional<double> number(std::string_view key);
  double number(std::string_view key, double fallback) { return number(key).value_or(fallback); }
  double required_number(std::string_view key);
  // A whole number (checked).
  std::optional<std::int64_t> integer(std::string_view key);
  std::int64_t integer(std::string_view key, std::int64_t fallback) {
    return integer(key).value_or(fallback);
  }
  std::int64_t required_integer(std::string_view key);
  // A 0/1 flag.
  bool flag(std::string_view key, bool fallback);
  // Every value of `key` in order (a list argument repeats its key).
  std::vector<double> list(std::string_view key);

  // Throws std::invalid_argument naming the first key no accessor asked for, and the valid ones.
  void check_all_used() const;

 private:
  std::vector<double> take(std::string_view key);

  std::string kind_;
  std::vector<std::pair<std::string, double>> items_;
  std::vector<bool> used_;
  std::vector<std::string> asked_;
};

}  // namespace simdoptim::capi
