#include "bench/size.hpp"

#include <cctype>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <utility>

namespace simdoptim::bench {
namespace {

// Larger counts cannot be allocated here anyway and would overflow byte counts downstream.
constexpr std::size_t kMaxElements = std::size_t{1} << 40;

[[noreturn]] void bad_size(std::string_view text, std::string_view why) {
  throw std::invalid_argument("invalid size '" + std::string(text) + "': " + std::string(why) +
                              " (expected a positive element count such as 1000, 64K, 64M, 1G "
                              "or 2^26)");
}

std::size_t parse_digits(std::string_view whole, std::string_view digits) {
  std::size_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value);
  if (digits.empty() || ec == std::errc::invalid_argument || ptr != end)
    bad_size(whole, "not a number");
  if (ec == std::errc::result_out_of_range) bad_size(whole, "too large");
  return value;
}

}  // namespace

std::size_t parse_size(std::string_view text) {
  if (text.empty()) bad_size(text, "empty");
  std::size_t value = 0;
  if (const auto caret = text.find('^'); caret != std::string_view::npos) {
    if (parse_digits(text, text.substr(0, caret)) != 2) bad_size(text, "only powers of 2");
    const std::size_t exponent = parse_digits(text, text.substr(caret + 1));
    if (exponent >= 63) bad_size(text, "too large");
    value = std::size_t{1} << exponent;
  } else {
    std::string_view digits = text;
    unsigned shift = 0;
    if (digits.size() > 1 && (digits.back() == 'i')) digits.remove_suffix(1);  // 64Mi
    switch (std::toupper(static_cast<unsigned char>(digits.back()))) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      default:
        break;
    }
    if (shift != 0) digits.remove_suffix(1);
    value = parse_digits(text, digits);
    if (value > (std::numeric_limits<std::size_t>::max() >> shift)) bad_size(text, "too large");
    value <<= shift;
  }
  if (value == 0) bad_size(text, "must be at least 1");
  if (value > kMaxElements) bad_size(text, "more than 2^40 elements");
  return value;
}

std::string format_size(std::size_t n) {
  constexpr std::pair<unsigned, const char*> kUnits[] = {{30, "G"}, {20, "M"}, {10, "K"}};
  for (const auto& [shift, suffix] : kUnits)
    if (n != 0 && n % (std::size_t{1} << shift) == 0) return std::to_string(n >> shift) + suffix;
  return std::to_string(n);
}

}  // namespace simdoptim::bench
