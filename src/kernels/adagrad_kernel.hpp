#pragma once
// Adagrad's fused update (torch.optim.Adagrad); formula in include/simdoptim/adagrad.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AdagradArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* sum = nullptr;
  float neg_clr = 0;  // -lr / (1 + (t - 1) * lr_decay)
  float eps = 0;
  float weight_decay = 0;  // L2 term added to the gradient; 0 for none
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(adagrad, AdagradArgs)

}  // namespace simdoptim::detail
