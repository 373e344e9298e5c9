#include "config/glob.hpp"

#include <cstddef>

namespace simdoptim::detail {
namespace {

/// Matches the bracket expression starting at pattern[p] == '[' against `ch`. Returns the index
/// just past the closing ']' (0 when there is none, so the '[' is literal) and sets `matched`.
std::size_t match_class(std::string_view pattern, std::size_t p, char ch, bool& matched) {
  std::size_t i = p + 1;
  const bool negate = i < pattern.size() && (pattern[i] == '!' || pattern[i] == '^');
  if (negate) ++i;
  bool found = false;
  bool first = true;
  while (i < pattern.size() && (first || pattern[i] != ']')) {
    first = false;
    char lo = pattern[i];
    if (lo == '\\' && i + 1 < pattern.size()) lo = pattern[++i];
    char hi = lo;
    if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      hi = pattern[i + 2];
      if (hi == '\\' && i + 3 < pattern.size()) hi = pattern[++i + 2];
      i += 2;
    }
    if (lo <= ch && ch <= hi) found = true;
    ++i;
  }
  if (i >= pattern.size()) return 0;
  matched = found != negate;
  return i + 1;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view name) noexcept {
  // Iterative matching with one backtrack point: the last '*' seen and the name position it
  // was tried at. Linear in practice, never exponential.
  std::size_t p = 0;
  std::size_t n = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_n = 0;
  while (n < name.size()) {
    if (p < pattern.size()) {
      const char c = pattern[p];
      if (c == '*') {
        star = p++;
        star_n = n;
        continue;
      }
      if (c == '?') {
        ++p;
        ++n;
        continue;
      }
      if (c == '[') {
        bool matched = false;
        const std::size_t next = match_class(pattern, p, name[n], matched);
        if (next != 0) {
          if (matched) {
            p = next;
            ++n;
            continue;
          }
        } else if (name[n] == '[') {
          ++p;
          ++n;
          continue;
        }
      } else {
        const bool escaped = c == '\\' && p + 1 < pattern.size();
        const char literal = escaped ? pattern[p + 1] : c;
        if (literal == name[n]) {
          p += escaped ? 2 : 1;
          ++n;
          continue;
        }
      }
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    n = ++star_n;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace simdoptim::detail
