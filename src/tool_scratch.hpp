#pragma once
// What the library's tools reuse on one optimizer from call to call (gradient clipping, the
// non-finite check of skip_if_nonfinite), so that once grown they do not allocate. Each
// optimizer owns one (Optimizer::tools_scratch()); the tools run on its caller's thread, one at
// a time, as the optimizer's own steps do.
#include <cstddef>
#include <span>
#include <vector>

#include "kernels/average_kernel.hpp"
#include "kernels/clip_kernel.hpp"
#include "step_plan.hpp"
#include "tensor_reductions.hpp"

namespace simdoptim::detail {

// A group whose gradients clipping reads: the arena's (external empty) or an engine's buffers.
struct GradGroup {
  ParamGroup* group;
  std::span<const float* const> external;
  bool present(std::size_t i) const {
    return external.empty() ? group->has_grad(i) : external[i] != nullptr;
  }
  const float* data(std::size_t i) const {
    return external.empty() ? group->grad_arena().data() + group->info(i).offset : external[i];
  }
};

struct ToolScratch {
  std::vector<GradGroup> grad_groups;  // the groups a clip reads
  TensorReducer reducer;
  std::vector<double> per_tensor;  // one reduction per tensor of a group
  std::vector<char> has_grad;      // the flags step(const StepGrads&) restores, every tensor
  // The engine's gradients Optimizer::note_grads_finite covers (empty: the arenas').
  std::vector<const float*> finite_external;
  StepPlan<ClipScaleArgs> scale_plan;
  StepPlan<ClipClampArgs> clamp_plan;
  StepPlan<AverageArgs> average_plan;  // the averaging pass (src/averaging.cpp)
};

}  // namespace simdoptim::detail
