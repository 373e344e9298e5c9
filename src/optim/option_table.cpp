#include "optim/option_table.hpp"

#include <cmath>

#include "validate_options.hpp"

namespace simdoptim::detail {
namespace {

void check_option(const GroupOptions& o, const OptionSpec& spec) {
  switch (spec.check) {
    case Check::non_negative:
      require_non_negative(o, spec.name);
      break;
    case Check::unit:
      require_in_range(o, spec.name, 0.0, 1.0);
      break;
    case Check::unit_closed: {
      const double v = o.get(spec.name);
      if (!(v >= 0.0 && v <= 1.0)) invalid_option(spec.name, v, "must be in [0, 1]");
      break;
    }
    case Check::flag:
      require_flag(o, spec.name);
      break;
    case Check::number: {
      const double v = o.get(spec.name);
      if (v != v) invalid_option(spec.name, v, "must be a number");
      break;
    }
    case Check::count: {
      // Bounded so that every conversion to an integer type is exact and defined.
      constexpr double kMaxCount = 9007199254740992.0;  // 2^53
      const double v = o.get(spec.name);
      if (!(v >= 1.0 && v <= kMaxCount) || v != std::floor(v))
        invalid_option(spec.name, v, "must be an integer in [1, 2^53]");
      break;
    }
    case Check::custom:
      break;
  }
}

}  // namespace

void validate_options(std::span<const OptionSpec> table, const GroupOptions& options) {
  for (const OptionSpec& spec : table) check_option(options, spec);
}

}  // namespace simdoptim::detail
