#pragma once
// NAdam's fused update (torch.optim.NAdam); formula in include/simdoptim/nadam.hpp.
#include "kernels/adam_moments.hpp"
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct NadamArgs : AdamMomentArgs {
  float bias_correction2 = 1;  // 1 - beta2^t
  float grad_coef = 0;         // -lr * (1 - mu_t) / (1 - mu_product)
  float exp_avg_coef = 0;      // -lr * mu_{t+1} / (1 - mu_product_next)
};

SIMDOPTIM_DECLARE_KERNEL(nadam, NadamArgs)

}  // namespace simdoptim::detail
