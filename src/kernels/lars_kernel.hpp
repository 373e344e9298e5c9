#pragma once
// LARS's fused update, once the per-tensor trust ratio is known; formula in
// include/simdoptim/lars.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct LarsArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* momentum_buffer = nullptr;  // null when momentum == 0
  float neg_lr = 0;
  float weight_decay = 0;  // used only when adapt
  float trust_ratio = 1;   // used only when adapt
  float momentum = 0;
  float one_minus_dampening = 1;
  bool adapt = false;  // g = (grad + weight_decay * p) * trust_ratio
  bool nesterov = false;
  bool first_step = false;  // the buffer starts as a copy of g (torch's SGD)
};

SIMDOPTIM_DECLARE_KERNEL(lars, LarsArgs)

}  // namespace simdoptim::detail
