#pragma once
// Lion's fused update; formula in include/simdoptim/lion.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct LionArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float neg_lr = 0;
  float beta1 = 0;
  float one_minus_beta1 = 0;
  float beta2 = 0;
  float one_minus_beta2 = 0;
  float decay_factor = 1;  // 1 - lr * weight_decay; 1 for none
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(lion, LionArgs)

}  // namespace simdoptim::detail
