#pragma once
// Checks shared by the kernel suites (test_elementwise_kernels.cpp, test_multipass_kernels.cpp):
// bitwise comparison of trajectories, and the arena invariants after a few steps.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "simdoptim/param_group.hpp"

namespace kernel_checks {

inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Bitwise equal, except that any NaN equals any NaN: IEEE 754 leaves the sign and payload of a
// NaN produced from two NaN operands to the hardware and the compiler's operand order.
inline bool same_bits_or_both_nan(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) return false;
  }
  return true;
}

// Requires every padding element of the parameters and of the state arrays (except those named
// in `nonzero_states`, whose rule makes a zero gradient's state nonzero) to be zero; returns how
// many parameter elements differ from `before` (the parameter arena before the steps).
inline std::size_t moved_with_zero_padding(
    simdoptim::ParamGroup& g, const std::vector<float>& before,
    std::initializer_list<std::string_view> nonzero_states = {}) {
  std::size_t moved = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const auto& info = g.info(i);
    const std::size_t pad_end = i + 1 < g.size() ? g.info(i + 1).offset : g.padded_numel();
    for (std::size_t k = info.offset; k < info.offset + info.numel; ++k)
      moved += g.param_arena()[k] != before[k];
    for (std::size_t k = info.offset + info.numel; k < pad_end; ++k) {
      REQUIRE(g.param_arena()[k] == 0.0f);
      for (const auto& name : g.state_names()) {
        bool skip = false;
        for (std::string_view s : nonzero_states) skip = skip || name == s;
        if (skip) continue;
        INFO("state " << name);
        REQUIRE(g.state_arena(name)[k] == 0.0f);
      }
    }
  }
  return moved;
}

}  // namespace kernel_checks
