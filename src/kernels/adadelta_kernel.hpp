#pragma once
// Adadelta's fused update (torch.optim.Adadelta); formula in include/simdoptim/adadelta.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AdadeltaArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* square_avg = nullptr;
  float* acc_delta = nullptr;
  float neg_lr = 0;
  float rho = 0;
  float one_minus_rho = 0;
  float eps = 0;
  float weight_decay = 0;  // L2 term added to the gradient; 0 for none
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(adadelta, AdadeltaArgs)

}  // namespace simdoptim::detail
