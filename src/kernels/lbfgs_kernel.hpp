#pragma once
// LBFGS's vector operations on the flat arena: a dot product with reduce_kernel.hpp's fixed
// lanes and blocks (the same bits on every build), and y = a * x. Steps along a direction use
// axpy_kernel.hpp.
#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct DotArgs {
  const float* x = nullptr;
  const float* y = nullptr;
  double* out = nullptr;  // receives the range's sum of x[i] * y[i]
};

struct ScaleArgs {
  float* y = nullptr;
  const float* x = nullptr;
  float a = 0;
};

SIMDOPTIM_DECLARE_KERNEL(dot, DotArgs)
SIMDOPTIM_DECLARE_KERNEL(scale, ScaleArgs)

}  // namespace simdoptim::detail
