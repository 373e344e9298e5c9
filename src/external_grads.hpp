#pragma once
// Gradients an engine keeps in its own buffers (Optimizer::step(const StepGrads&)): one pointer
// per tensor of every group, in group order then tensor order.
#include <cstddef>
#include <deque>
#include <span>

#include "simdoptim/param_group.hpp"

namespace simdoptim::detail {

// The pointers of `external` that belong to group `g` of `groups`; empty when `external` is
// (the arenas hold the gradients).
template <class T>
std::span<T* const> group_grads(const std::deque<ParamGroup>& groups, std::span<T* const> external,
                                std::size_t g) noexcept {
  if (external.empty()) return {};
  std::size_t first = 0;
  for (std::size_t k = 0; k < g; ++k) first += groups[k].size();
  return external.subspan(first, groups[g].size());
}

}  // namespace simdoptim::detail
