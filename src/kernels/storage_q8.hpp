#pragma once
// Quantizing and dequantizing one block of 8-bit state (kernels/quant8.hpp) for a kernel
// written once over V (kernels/kernel_source.hpp): the scalar reference at float, this build's
// batch quantizer (kernels/simd_quant8.hpp) at its batch.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernels/quant8.hpp"
#if defined(SIMDOPTIM_ISA_NS)
#include "kernels/simd_quant8.hpp"
#endif

namespace simdoptim::detail {
namespace {

// Quantizes x[0, n) (64-byte aligned, n a multiple of 16) into codes; returns the block's scale.
template <class V>
float quantize_block(const float* x, std::uint8_t* codes, std::size_t n,
                     bool non_negative) noexcept {
  if constexpr (std::is_same_v<V, float>) {
    return quant8_encode_block(x, codes, n, non_negative);
  } else {
#if defined(SIMDOPTIM_ISA_NS)
    return SIMDOPTIM_ISA_NS::encode_block(x, codes, n, non_negative);
#endif
  }
}

// The values of codes[0, n) in a block of `scale`, into x (64-byte aligned).
template <class V>
void dequantize_block(const std::uint8_t* codes, float scale, float* x, std::size_t n,
                      bool non_negative) noexcept {
  if constexpr (std::is_same_v<V, float>) {
    quant8_decode_block(codes, scale, x, n, non_negative);
  } else {
#if defined(SIMDOPTIM_ISA_NS)
    SIMDOPTIM_ISA_NS::decode_block(codes, scale, x, n, non_negative);
#endif
  }
}

}  // namespace
}  // namespace simdoptim::detail
