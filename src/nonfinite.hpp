#pragma once
// Non-finite gradient detection for Optimizer's skip_if_nonfinite mode: one read-only pass over
// the present gradients with the abs_max reduction (NaN if any element is NaN, Inf if any is
// infinite), vectorized and parallel like the update itself.
#include <cstdint>
#include <deque>
#include <span>

#include "executor.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/param_group.hpp"
#include "tool_scratch.hpp"

namespace simdoptim::detail {

// The gradients a step reads: the arenas' (both spans empty), or an engine's buffers in fp32
// (`external`) or in 16 bits of `external16_dtype` (`external16`), one pointer per tensor of
// every group, nullptr for an absent gradient.
struct CheckedGrads {
  std::span<const float* const> external;
  std::span<const std::uint16_t* const> external16;
  DType external16_dtype = DType::bf16;
};

// True when every element of every present gradient of `groups`, times `scale` as the step
// reads it, is finite. `scratch` is the optimizer's, reused so that, once grown, the check does
// not allocate.
bool grads_finite(Executor& executor, Isa isa, std::deque<ParamGroup>& groups,
                  const CheckedGrads& grads, float scale, ToolScratch& scratch);

}  // namespace simdoptim::detail
