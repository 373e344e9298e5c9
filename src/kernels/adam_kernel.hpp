#pragma once
// Adam's and AdamW's fused update; formula in include/simdoptim/adam.hpp. Scalars are computed
// in double on the host and rounded to float once, as torch does for fp32 tensors.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AdamArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  float* max_exp_avg_sq = nullptr;  // null unless amsgrad
  float beta1 = 0;
  float one_minus_beta1 = 0;
  float beta2 = 0;
  float one_minus_beta2 = 0;
  float neg_step_size = 0;              // -lr / (1 - beta1^t)
  float inv_bias_correction2_sqrt = 0;  // 1 / sqrt(1 - beta2^t)
  float eps = 0;
  float weight_decay = 0;  // L2 term added to the gradient (Adam); 0 for none
  float decay_factor = 1;  // decoupled decay p *= 1 - lr * wd (AdamW); 1 for none
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(adam, AdamArgs)

}  // namespace simdoptim::detail
