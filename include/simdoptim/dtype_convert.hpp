#pragma once
/// Conversions between fp32 values and the bits of 16-bit arena elements (TensorView::data16),
/// the library's own (docs/precision.md): nearest-even, subnormals kept, NaN quiet.
#include <cstdint>

#include "simdoptim/types.hpp"

namespace simdoptim {
inline namespace v1 {

/// The bits of `x` as a bf16 or f16 element, rounded to nearest-even (torch: x.to(dtype)).
std::uint16_t to_bits16(DType dtype, float x);
/// The fp32 value of a bf16 or f16 element's bits (exact).
float from_bits16(DType dtype, std::uint16_t bits);

}  // namespace v1
}  // namespace simdoptim
