#include "config/glob.hpp"

#include <fnmatch.h>

#include <string>

namespace simdoptim::detail {

// fnmatch(3) without flags is the documented semantics (docs/config.md): `*` crosses dots (no
// FNM_PATHNAME, no FNM_PERIOD), `\` escapes, `[!...]`, and a `[` without its `]` is literal.
// No guard against pathological patterns is needed: glibc's fnmatch does not backtrack into an
// earlier `*` once a later one has failed, so `*a*a*...*b` against a long run of `a` stays
// polynomial (tests/test_build_optimizer.cpp times such a case). Parameter names are ASCII, so
// the locale fnmatch consults (multibyte characters, collation of ranges) changes nothing.
bool glob_match(std::string_view pattern, std::string_view name) noexcept {
  // fnmatch reads C strings: an embedded NUL would silently cut the pattern or the name short.
  if (pattern.find('\0') != std::string_view::npos || name.find('\0') != std::string_view::npos)
    return false;
  try {
    std::string p(pattern);
    // glibc never matches a pattern ending in an unpaired `\`; the documented meaning of `\`
    // (the next character is literal) has no next character there, so it stands for itself.
    std::size_t trailing = 0;
    while (trailing < p.size() && p[p.size() - 1 - trailing] == '\\') ++trailing;
    if (trailing % 2 == 1) p += '\\';
    return fnmatch(p.c_str(), std::string(name).c_str(), 0) == 0;
  } catch (...) {  // std::bad_alloc copying the strings
    return false;
  }
}

}  // namespace simdoptim::detail
