#pragma once
// Non-finite gradient detection for Optimizer's skip_if_nonfinite mode: one read-only pass over
// the present gradients with the abs_max reduction (NaN if any element is NaN, Inf if any is
// infinite), vectorized and parallel like the update itself.
#include <deque>
#include <span>

#include "executor.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/param_group.hpp"
#include "tool_scratch.hpp"

namespace simdoptim::detail {

// True when every element of every present gradient of `groups`, times `scale` in float, is
// finite. The gradients are the arenas' (`external` empty) or an engine's buffers (one pointer
// per tensor of every group, nullptr for an absent gradient). `scratch` is the optimizer's,
// reused so that, once grown, the check does not allocate.
bool grads_finite(Executor& executor, Isa isa, std::deque<ParamGroup>& groups,
                  std::span<const float* const> external, float scale, ToolScratch& scratch);

}  // namespace simdoptim::detail
