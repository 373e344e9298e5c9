#pragma once
// Element counts on the command line: "1000", "64K", "64M", "1G" (binary multiples, so 64M is
// 64 * 2^20), "2^26".
#include <cstddef>
#include <string>
#include <string_view>

namespace simdoptim::bench {

// Parses a positive element count; throws std::invalid_argument naming the text and the forms
// accepted.
std::size_t parse_size(std::string_view text);

// The shortest exact spelling of `n` in the forms parse_size accepts ("64M", "1000", "3K").
std::string format_size(std::size_t n);

}  // namespace simdoptim::bench
