#include "validate_options.hpp"

#include <sstream>
#include <stdexcept>

namespace simdoptim::detail {

void invalid_option(std::string_view key, double value, std::string_view why) {
  std::ostringstream s;
  s.precision(17);
  s << "invalid " << key << ": " << value << " (" << why << ")";
  throw std::invalid_argument(s.str());
}

void require_non_negative(const GroupOptions& options, std::string_view key) {
  const double v = options.get(key);
  if (!(v >= 0.0)) invalid_option(key, v, "must be >= 0");
}

void require_in_range(const GroupOptions& options, std::string_view key, double lo, double hi) {
  const double v = options.get(key);
  if (!(v >= lo && v < hi)) {
    std::ostringstream why;
    why << "must be in [" << lo << ", " << hi << ")";
    invalid_option(key, v, why.str());
  }
}

void require_flag(const GroupOptions& options, std::string_view key) {
  const double v = options.get(key);
  if (v != 0.0 && v != 1.0) invalid_option(key, v, "must be 0 or 1");
}

}  // namespace simdoptim::detail
