#pragma once
// RAdam's fused update (torch.optim.RAdam); formula in include/simdoptim/radam.hpp.
#include "kernels/adam_moments.hpp"
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct RadamArgs : AdamMomentArgs {
  // rectified: -lr * r * sqrt(1 - beta2^t) / (1 - beta1^t); else -lr / (1 - beta1^t)
  float neg_step_size = 0;
  bool rectified = false;  // rho_t > 5: the adaptive (Adam-like) step
};

SIMDOPTIM_DECLARE_KERNEL(radam, RadamArgs)

}  // namespace simdoptim::detail
