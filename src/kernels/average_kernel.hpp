#pragma once
// The averaging update as a pass of its own: for the tensors a step did not touch, the
// optimizers whose step is several passes, averages or parameters stored in 16 bits, and the
// unfused reference.
#include <cstdint>

#include "kernels/kernel.hpp"
#include "kernels/storage_format.hpp"

namespace simdoptim::detail {

struct AverageArgs {
  // The parameters and the average, each of its format (arena starts).
  void* param = nullptr;
  void* averaged = nullptr;
  Storage param_format = Storage::f32;
  Storage averaged_format = Storage::f32;
  std::uint32_t kind = 0;  // an AverageKind (kernels/average_element.hpp)
  float w0 = 0;
  float w1 = 0;
  // Master weights' 16-bit copy, rewritten where Lookahead sets the (fp32) parameters.
  std::uint16_t* param_copy = nullptr;
  Storage param_copy_format = Storage::bf16;
};

SIMDOPTIM_DECLARE_KERNEL(average, AverageArgs)

}  // namespace simdoptim::detail
