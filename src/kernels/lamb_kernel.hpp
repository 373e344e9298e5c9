#pragma once
// LAMB's first pass: moments and the unscaled update u; formula in include/simdoptim/lamb.hpp.
// With `update` null the pass also applies p -= lr * u (no trust ratio); otherwise it stores u
// and the trust ratio is applied by the axpy kernel once ||p|| and ||u|| are known.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct LambArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  float* update = nullptr;     // scratch for u; null: apply directly with neg_lr
  bool stream_update = false;  // store u bypassing the caches (it is larger than they are)
  float clip = 1;              // gradients are divided by this (global norm clipping)
  float beta1 = 0;
  float beta3 = 0;  // 1 - beta1 with grad_averaging, else 1
  float beta2 = 0;
  float one_minus_beta2 = 0;
  float inv_bias_correction1 = 1;       // reciprocals: a multiply where timm divides, keeping the
  float inv_bias_correction2_sqrt = 1;  // pass at one division (the divider limits one core)
  float eps = 0;
  float weight_decay = 0;
  float neg_lr = 0;  // used only when update is null
};

SIMDOPTIM_DECLARE_KERNEL(lamb, LambArgs)

}  // namespace simdoptim::detail
