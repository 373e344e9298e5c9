#pragma once
// Helpers shared by the optimizers: per-tensor step bookkeeping, state arrays that start at a
// value other than zero, and host-side tables for the scalar state torch keeps per tensor (NAdam's
// mu_product, ASGD's eta and mu), which the core's TensorState does not hold.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <vector>

#include "optim/rule.hpp"
#include "simdoptim/param_group.hpp"
#include "step_plan.hpp"

namespace simdoptim::detail {

// Counts one step for every tensor of `s` and marks its state created; returns the new count
// of the first tensor (the segment's key keeps the counts equal where it matters).
inline std::int64_t advance_step(ParamGroup& group, const Segment& s) noexcept {
  auto states = group.tensor_states();
  for (std::size_t i = s.first; i < s.last; ++i) {
    ++states[i].step;
    states[i].initialized = true;
  }
  return states[s.first].step;
}

// Sets tensor `i`'s elements of state array `arena` to `value`; padding stays as it is.
inline void fill_tensor(ParamGroup& group, float* arena, std::size_t i, float value) noexcept {
  const TensorInfo& t = group.info(i);
  std::fill(arena + t.offset, arena + t.offset + t.numel, value);
}

// Position of `group` in `groups` (a deque, so addresses identify groups for good).
inline std::size_t group_index(const std::deque<ParamGroup>& groups, const ParamGroup& group) {
  for (std::size_t g = 0; g < groups.size(); ++g)
    if (&groups[g] == &group) return g;
  throw std::logic_error("param group does not belong to this optimizer");
}

// Tables of one value per tensor and group, [group][tensor], for scalar state torch keeps per
// parameter. The row of group `g` with `n` tensors, created with `init` on first use.
template <class T>
std::vector<T>& table_row(std::deque<std::vector<T>>& table, std::size_t g, std::size_t n, T init) {
  if (table.size() <= g) table.resize(g + 1);
  if (table[g].size() < n) table[g].resize(n, init);
  return table[g];
}

// The value of tensor `i` of group `g`, or `init` when it was never set.
template <class T>
T table_get(const std::deque<std::vector<T>>& table, std::size_t g, std::size_t i, T init) {
  return g < table.size() && i < table[g].size() ? table[g][i] : init;
}

}  // namespace simdoptim::detail
