#pragma once
// The averaging update as a pass of its own: for the tensors a step did not touch, the
// optimizers whose step is several passes, and the unfused reference.
#include <cstdint>

#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct AverageArgs {
  float* param = nullptr;
  float* averaged = nullptr;
  std::uint32_t kind = 0;  // an AverageKind (kernels/average_element.hpp)
  float w0 = 0;
  float w1 = 0;
};

SIMDOPTIM_DECLARE_KERNEL(average, AverageArgs)

}  // namespace simdoptim::detail
