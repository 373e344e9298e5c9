#pragma once
// The storage conversions (kernels/storage.hpp) one at a time over whole arrays, so a test can
// hold each build's conversion against the scalar reference's on every 16-bit pattern and any
// float (tests/test_half_conversions.cpp). Not part of any optimizer.
#include <cstdint>

#include "kernels/kernel.hpp"

namespace simdoptim::detail {

enum class HalfConversion {
  to_bf16,             // float[] -> bf16[]
  to_f16,              // float[] -> fp16[]
  from_bf16,           // bf16[] -> float[]
  from_f16,            // fp16[] -> float[]
  to_bf16_stochastic,  // float[] -> bf16[], stochastic rounding keyed by (key, element index)
};

struct HalfConvertArgs {
  HalfConversion op = HalfConversion::to_bf16;
  const void* in = nullptr;
  void* out = nullptr;
  std::uint32_t key = 0;  // to_bf16_stochastic's
};

SIMDOPTIM_DECLARE_KERNEL(half_convert, HalfConvertArgs)

}  // namespace simdoptim::detail
