#pragma once
// Helpers shared by the optimizers: per-tensor step bookkeeping, state arrays that start at a
// value other than zero, and a group's position in its optimizer.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <stdexcept>
#include <vector>

#include "kernels/quant8.hpp"
#include "optim/rule.hpp"
#include "simdoptim/param_group.hpp"
#include "step_plan.hpp"

namespace simdoptim::detail {

// The step count after one more step. It stops at TensorState::kMaxStep (2^53 steps, beyond
// any run): a count set larger by hand never overflows.
inline std::int64_t next_step(std::int64_t step) noexcept {
  return step < TensorState::kMaxStep ? step + 1 : std::max(step, TensorState::kMaxStep);
}

// Counts one step for every tensor of `s` and marks its state created; returns the new count
// of the first tensor (the segment's key keeps the counts equal where it matters).
inline std::int64_t advance_step(ParamGroup& group, const Segment& s) noexcept {
  auto states = group.tensor_states();
  for (std::size_t i = s.first; i < s.last; ++i) {
    states[i].step = next_step(states[i].step);
    states[i].initialized = true;
  }
  return states[s.first].step;
}

// Sets tensor `i`'s elements of state array `arena` to `value`; padding stays as it is.
inline void fill_tensor(ParamGroup& group, float* arena, std::size_t i, float value) noexcept {
  const TensorInfo& t = group.info(i);
  std::fill(arena + t.offset, arena + t.offset + t.numel, value);
}

// The same for a 16-bit state array, `bits` being the value's.
inline void fill_tensor16(ParamGroup& group, std::uint16_t* arena, std::size_t i,
                          std::uint16_t bits) noexcept {
  const TensorInfo& t = group.info(i);
  std::fill(arena + t.offset, arena + t.offset + t.numel, bits);
}

// The same for a q8 state array (codes and scales at `arena`): tensor `i`'s blocks quantized
// from `value`, their padding from zero.
inline void fill_tensor_q8(ParamGroup& group, float* arena, std::size_t i, float value,
                           bool non_negative) noexcept {
  const TensorInfo& t = group.info(i);
  auto* codes = reinterpret_cast<std::uint8_t*>(arena);
  float* scales = group.q8_scales(arena);
  std::array<float, kQuantBlock> block;
  for (std::size_t b = t.offset; b < t.offset + t.numel; b += kQuantBlock) {
    const std::size_t n = std::min(kQuantBlock, t.offset + t.numel - b);
    std::fill(block.begin(), block.begin() + n, value);
    std::fill(block.begin() + n, block.end(), 0.0f);
    scales[b / kQuantBlock] =
        quant8_encode_block(block.data(), codes + b, kQuantBlock, non_negative);
  }
}

// Position of `group` in `groups` (a deque, so addresses identify groups for good).
inline std::size_t group_index(const std::deque<ParamGroup>& groups, const ParamGroup& group) {
  for (std::size_t g = 0; g < groups.size(); ++g)
    if (&groups[g] == &group) return g;
  throw std::logic_error("param group does not belong to this optimizer");
}

}  // namespace simdoptim::detail
