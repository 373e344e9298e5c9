#pragma once
// Adamax's fused update (torch.optim.Adamax); formula in include/simdoptim/adamax.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AdamaxArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_inf = nullptr;
  float beta1 = 0;
  float one_minus_beta1 = 0;
  float beta2 = 0;
  float neg_clr = 0;  // -lr / (1 - beta1^t)
  float eps = 0;
  float weight_decay = 0;  // L2 term added to the gradient; 0 for none
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(adamax, AdamaxArgs)

}  // namespace simdoptim::detail
