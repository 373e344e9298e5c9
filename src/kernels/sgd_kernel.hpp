#pragma once
// SGD's fused update (torch.optim.SGD); formula in include/simdoptim/sgd.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct SgdArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* momentum_buffer = nullptr;  // null when momentum == 0
  float neg_lr = 0;
  float momentum = 0;
  float one_minus_dampening = 1;
  float weight_decay = 0;
  bool maximize = false;
  bool nesterov = false;
  bool first_step = false;  // the buffer starts as a copy of the gradient (torch)
};

SIMDOPTIM_DECLARE_KERNEL(sgd, SgdArgs)

}  // namespace simdoptim::detail
