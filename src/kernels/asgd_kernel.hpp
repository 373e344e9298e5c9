#pragma once
// ASGD's fused update (torch.optim.ASGD); formula in include/simdoptim/asgd.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AsgdArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* ax = nullptr;
  float decay_factor = 1;  // 1 - lambd * eta
  float neg_eta = 0;
  float mu = 1;            // 1: ax is a copy of p; else ax += (p - ax) * mu
  float weight_decay = 0;  // L2 term added to the gradient; 0 for none
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(asgd, AsgdArgs)

}  // namespace simdoptim::detail
