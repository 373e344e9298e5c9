#include "simdoptim/dtype_convert.hpp"

#include "kernels/half.hpp"

namespace simdoptim {
inline namespace v1 {

std::uint16_t to_bits16(DType dtype, float x) {
  return dtype == DType::bf16 ? detail::bf16_from_f32(x) : detail::f16_from_f32(x);
}

float from_bits16(DType dtype, std::uint16_t bits) {
  return dtype == DType::bf16 ? detail::f32_from_bf16(bits) : detail::f32_from_f16(bits);
}

}  // namespace v1
}  // namespace simdoptim
