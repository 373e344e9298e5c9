#pragma once
// The scalar reference of the 8-bit block-wise quantized optimizer state (docs/precision.md).
// A block of kQuantBlock values is stored as one byte per value and one fp32 scale: a power of
// two, the binade of the block's largest finite magnitude, so scaling is exact and the codes are
// float bit fields (no table, no search). Every instruction set's quantizer
// (kernels/simd_quant8.hpp) is held to these bits (tests/test_quant8.cpp).
//   signed states: sign, 4-bit exponent, 3-bit mantissa (with subnormals) of x / scale;
//   non-negative states (second moments): 4-bit exponent, 4-bit mantissa of sqrt(x / scale),
//     so that the range of v = g^2 is that of g squared.
// Rounding is to nearest-even, saturating at the largest code below 2 (so that dequantizing and
// quantizing again gives the same codes). NaN and +-Inf have codes of their own and do not take
// part in the scale. Subnormal inputs quantize to a zero of their sign, and values that would
// dequantize to a subnormal come out as zero: integer arithmetic decides both, so flush-to-zero
// and denormals-are-zero settings change no result. Blocks with no normal finite value have
// scale 0.
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace simdoptim::detail {

inline constexpr std::size_t kQuantBlock = 256;

// Internal linkage: each instruction set's build keeps its own copies (no weak symbols).
namespace {

// Code layout of one magnitude with M mantissa bits: exponent field e (4 bits) and mantissa m;
// e = 14 is the binade [1, 2) of the scale, e = 0 holds subnormals m 2^(-13-M). Exponent field
// 15 is not produced for finite values; its last two codes are Inf and NaN.
template <int M>
struct Quant8Codes {
  static constexpr std::uint32_t kMax = (14U << M) | ((1U << M) - 1);  // largest finite code
  static constexpr std::uint32_t kNaN = (15U << M) | ((1U << M) - 1);
  static constexpr std::uint32_t kInf = kNaN - 1;
};
using SignedCodes = Quant8Codes<3>;
using UnsignedCodes = Quant8Codes<4>;

// x >> s rounded to nearest-even; x < 2^31 - 2^s.
constexpr std::uint32_t rne_shift(std::uint32_t x, int s) {
  return (x + (1U << (s - 1)) - 1U + ((x >> s) & 1U)) >> s;
}

// The code of magnitude bits a (finite, |x| of a normal float, at most the block's largest)
// relative to the scale of biased exponent es.
template <int M>
std::uint32_t encode_magnitude(std::uint32_t a, std::int32_t es) noexcept {
  const std::int32_t ec = static_cast<std::int32_t>(a >> 23) - es + 14;
  if (ec >= 1) {
    const std::uint32_t t = (static_cast<std::uint32_t>(ec) << 23) | (a & 0x7fffffU);
    const std::uint32_t r = rne_shift(t, 23 - M);
    return r > Quant8Codes<M>::kMax ? Quant8Codes<M>::kMax : r;
  }
  // Subnormal codes: the 24-bit significand scaled to units of 2^(-13-M), rounded.
  const std::uint32_t sig = (a & 0x7fffffU) | 0x800000U;
  for (int k = 0; k <= M; ++k)
    if (ec == -k) return rne_shift(sig, 24 - M + k);
  return 0;
}

// The value of magnitude code c relative to the scale (exact: at most M + 1 significant bits).
template <int M>
float decode_magnitude(std::uint32_t c) noexcept {
  const std::uint32_t e = c >> M, m = c & ((1U << M) - 1);
  if (e == 0) return static_cast<float>(m) * std::bit_cast<float>((127U - 13U - M) << 23);
  return std::bit_cast<float>(((e + 127U - 14U) << 23) | (m << (23 - M)));
}

// The bits of the largest finite magnitude of x[0, n), 0 for none; only non-negative values
// count when `non_negative`. (Integer comparisons: no float compare sees a subnormal.)
[[maybe_unused]] std::uint32_t quant8_max_bits(const float* x, std::size_t n,
                                               bool non_negative) noexcept {
  std::uint32_t amax = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const std::uint32_t u = std::bit_cast<std::uint32_t>(x[j]);
    const std::uint32_t a = non_negative ? ((u >> 31) != 0 ? 0 : u) : (u & 0x7fffffffU);
    if (a < 0x7f800000U && a > amax) amax = a;
  }
  return amax;
}

// Biased exponent of a block's scale from its largest magnitude's bits: that of the magnitude,
// or of its square root for non-negative states (sqrt is monotonic and correctly rounded: the
// largest root is the root of the largest value); 0 when the largest is zero or subnormal.
[[maybe_unused]] std::int32_t quant8_scale_exponent(std::uint32_t amax,
                                                    bool non_negative) noexcept {
  if ((amax >> 23) == 0) return 0;
  if (!non_negative) return static_cast<std::int32_t>(amax >> 23);
  return static_cast<std::int32_t>(
      std::bit_cast<std::uint32_t>(std::sqrt(std::bit_cast<float>(amax))) >> 23);
}

// The scale stored for a block: 2^(es - 127) for signed states, its square for non-negative
// ones; 0 for a block without normal finite values.
[[maybe_unused]] float quant8_scale(std::int32_t es, bool non_negative) noexcept {
  if (es == 0) return 0.0f;
  const std::int32_t e = non_negative ? 2 * es - 127 : es;
  return std::bit_cast<float>(static_cast<std::uint32_t>(e) << 23);
}

// The code of x in a signed block whose scale has biased exponent es.
[[maybe_unused]] std::uint8_t quant8_encode_signed(float x, std::int32_t es) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t sign = (u >> 24) & 0x80U;
  const std::uint32_t a = u & 0x7fffffffU;
  std::uint32_t c;
  if (a > 0x7f800000U)
    c = SignedCodes::kNaN;
  else if (a == 0x7f800000U)
    c = SignedCodes::kInf;
  else if (a < 0x00800000U)
    c = 0;
  else
    c = encode_magnitude<3>(a, es);
  return static_cast<std::uint8_t>(c | sign);
}

// The code of x in a non-negative block whose square-root scale has biased exponent es.
// Negative values (and -0) quantize to 0, -NaN to NaN, -Inf to 0.
[[maybe_unused]] std::uint8_t quant8_encode_unsigned(float x, std::int32_t es) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t a = u & 0x7fffffffU;
  if (a > 0x7f800000U) return UnsignedCodes::kNaN;
  if ((u >> 31) != 0 || a < 0x00800000U) return 0;
  if (a == 0x7f800000U) return UnsignedCodes::kInf;
  return static_cast<std::uint8_t>(
      encode_magnitude<4>(std::bit_cast<std::uint32_t>(std::sqrt(x)), es));
}

// x, or a zero of its sign when it is subnormal.
[[maybe_unused]] float quant8_flush(float x) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  return (u & 0x7f800000U) == 0 ? std::bit_cast<float>(u & 0x80000000U) : x;
}

[[maybe_unused]] float quant8_decode_signed(std::uint8_t code, float scale) noexcept {
  const std::uint32_t sign = std::uint32_t{code & 0x80U} << 24;
  const std::uint32_t c = code & 0x7fU;
  if (c == SignedCodes::kNaN) return std::bit_cast<float>(0x7fc00000U | sign);
  if (c == SignedCodes::kInf) return std::bit_cast<float>(0x7f800000U | sign);
  const float r = std::bit_cast<float>(std::bit_cast<std::uint32_t>(decode_magnitude<3>(c)) | sign);
  return quant8_flush(r * scale);
}

[[maybe_unused]] float quant8_decode_unsigned(std::uint8_t code, float scale) noexcept {
  if (code == UnsignedCodes::kNaN) return std::bit_cast<float>(0x7fc00000U);
  if (code == UnsignedCodes::kInf) return std::bit_cast<float>(0x7f800000U);
  const float r = decode_magnitude<4>(code);
  return quant8_flush(r * r * scale);
}

// Quantizes the block x[0, n) into codes; returns its scale.
[[maybe_unused]] float quant8_encode_block(const float* x, std::uint8_t* codes, std::size_t n,
                                           bool non_negative) noexcept {
  const std::int32_t es = quant8_scale_exponent(quant8_max_bits(x, n, non_negative), non_negative);
  for (std::size_t j = 0; j < n; ++j)
    codes[j] = non_negative ? quant8_encode_unsigned(x[j], es) : quant8_encode_signed(x[j], es);
  return quant8_scale(es, non_negative);
}

[[maybe_unused]] void quant8_decode_block(const std::uint8_t* codes, float scale, float* x,
                                          std::size_t n, bool non_negative) noexcept {
  for (std::size_t j = 0; j < n; ++j)
    x[j] = non_negative ? quant8_decode_unsigned(codes[j], scale)
                        : quant8_decode_signed(codes[j], scale);
}

}  // namespace
}  // namespace simdoptim::detail
