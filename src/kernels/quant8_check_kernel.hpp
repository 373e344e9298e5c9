#pragma once
// The 8-bit block quantizer (kernels/storage_q8.hpp) alone over whole arrays, block by block,
// so a test can hold each build's against the scalar reference (tests/test_quant8.cpp). Not part
// of any optimizer.
#include <cstdint>

#include "kernels/kernel.hpp"

namespace simdoptim::detail {

struct Quant8CheckArgs {
  bool decode = false;  // codes + scales -> values; otherwise values -> codes + scales
  bool non_negative = false;
  float* values = nullptr;
  std::uint8_t* codes = nullptr;
  float* scales = nullptr;  // one per kQuantBlock elements
};

SIMDOPTIM_DECLARE_KERNEL(quant8_check, Quant8CheckArgs)

}  // namespace simdoptim::detail
