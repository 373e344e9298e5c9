#pragma once
// Non-finite gradient detection for Optimizer's skip_if_nonfinite mode: one read-only pass over
// the present gradients with the abs_max reduction (NaN if any element is NaN, Inf if any is
// infinite), vectorized and parallel like the update itself.
#include <deque>

#include "executor.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/param_group.hpp"
#include "tool_scratch.hpp"

namespace simdoptim::detail {

// True when every element of every present gradient of `groups` is finite; `scratch` is the
// optimizer's, reused so that, once grown, the check does not allocate.
bool grads_finite(Executor& executor, Isa isa, std::deque<ParamGroup>& groups,
                  ToolScratch& scratch);

}  // namespace simdoptim::detail
