#pragma once
// y += a * x over arena ranges: LAMB's second pass (p -= lr * r * u) and LBFGS's steps along a
// direction.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AxpyArgs {
  float* y = nullptr;
  const float* x = nullptr;
  float a = 0;
};

SIMDOPTIM_DECLARE_KERNEL(axpy, AxpyArgs)

}  // namespace simdoptim::detail
