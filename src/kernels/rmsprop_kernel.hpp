#pragma once
// RMSprop's fused update (torch.optim.RMSprop); formula in include/simdoptim/rmsprop.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct RmspropArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* square_avg = nullptr;
  float* momentum_buffer = nullptr;  // null unless momentum > 0
  float* grad_avg = nullptr;         // null unless centered
  float neg_lr = 0;
  float alpha = 0;
  float one_minus_alpha = 0;
  float eps = 0;
  float momentum = 0;
  float weight_decay = 0;  // L2 term added to the gradient; 0 for none
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(rmsprop, RmspropArgs)

}  // namespace simdoptim::detail
