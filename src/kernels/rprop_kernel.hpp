#pragma once
// Rprop's fused update (torch.optim.Rprop); formula in include/simdoptim/rprop.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct RpropArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* prev = nullptr;
  float* step_size = nullptr;
  float etaminus = 0;
  float etaplus = 0;
  float step_size_min = 0;
  float step_size_max = 0;
  bool maximize = false;
};

SIMDOPTIM_DECLARE_KERNEL(rprop, RpropArgs)

}  // namespace simdoptim::detail
