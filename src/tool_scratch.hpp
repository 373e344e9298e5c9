#pragma once
// What the library's tools reuse on one optimizer from call to call (gradient clipping, the
// non-finite check of skip_if_nonfinite), so that once grown they do not allocate. Each
// optimizer owns one (Optimizer::tools_scratch()); the tools run on its caller's thread, one at
// a time, as the optimizer's own steps do.
#include <vector>

#include "kernels/clip_kernel.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"

namespace simdoptim::detail {

struct ToolScratch {
  TensorReducer reducer;
  std::vector<double> per_tensor;  // one reduction per tensor of a group
  StepPlan<ClipScaleArgs> scale_plan;
  StepPlan<ClipClampArgs> clamp_plan;
};

}  // namespace simdoptim::detail
