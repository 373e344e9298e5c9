#pragma once
// Turns run-time flags into template arguments once per call, so that inner loops carry no
// branches: with_bools(f, a, b) calls f(std::bool_constant<a>{}, std::bool_constant<b>{}).
#include <type_traits>

namespace simdoptim::detail {

template <class F>
void with_bools(F&& f) {
  f();
}

template <class F, class... Rest>
void with_bools(F&& f, bool first, Rest... rest) {
  if (first) {
    with_bools([&](auto... tail) { f(std::true_type{}, tail...); }, rest...);
  } else {
    with_bools([&](auto... tail) { f(std::false_type{}, tail...); }, rest...);
  }
}

}  // namespace simdoptim::detail
