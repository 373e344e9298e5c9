#pragma once
// The scalar reference of the 16-bit storage formats: bfloat16 (fp32's top half) and IEEE 754
// binary16 (fp16). Every instruction set's conversion (kernels/simd_half.hpp) is held to these
// bits (tests/test_half_conversions.cpp), as the host's conversions are (checkpoints, views).
//   fp32 -> half: round to nearest, ties to even; overflow gives Inf of the sign; subnormal
//     results are kept (no flush); NaN stays NaN of its sign, quiet, with the payload's top bits.
//   half -> fp32: exact; a NaN comes out quiet (a signalling NaN gets the quiet bit, as the
//     hardware conversions do), so half -> fp32 -> half is the identity except on signalling NaNs.
// Integer arithmetic only, except one exact float addition or subtraction of normal numbers,
// so neither the host's rounding mode nor flush-to-zero settings can change a result.
#include <bit>
#include <cstdint>

namespace simdoptim::detail {
// Internal linkage: each instruction set's build keeps its own copies (no weak symbols).
namespace {

[[maybe_unused]] std::uint16_t bf16_from_f32(float x) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  if ((u & 0x7fffffffU) > 0x7f800000U) return static_cast<std::uint16_t>((u >> 16) | 0x40U);
  // Adding 0x7fff plus the kept part's lowest bit rounds the dropped half to nearest-even; a
  // carry into the exponent is the right result (the next binade, or Inf past the largest).
  return static_cast<std::uint16_t>((u + 0x7fffU + ((u >> 16) & 1U)) >> 16);
}

// bf16 by stochastic rounding: up (away from zero) with probability the dropped bits / 2^16,
// given 16 uniform random bits r; NaN as bf16_from_f32. Unbiased: the expected result is x.
[[maybe_unused]] std::uint16_t bf16_from_f32_stochastic(float x, std::uint32_t r) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  if ((u & 0x7fffffffU) > 0x7f800000U) return static_cast<std::uint16_t>((u >> 16) | 0x40U);
  return static_cast<std::uint16_t>((u + (r & 0xffffU)) >> 16);
}

// A 32-bit integer hash with good avalanche (Wellons' lowbias32): two multiplies, three shifts.
[[maybe_unused]] std::uint32_t mix32(std::uint32_t x) noexcept {
  x ^= x >> 16;
  x *= 0x7feb352dU;
  x ^= x >> 15;
  x *= 0x846ca68bU;
  x ^= x >> 16;
  return x;
}

// The random bits of element `index` under `key` (a hash of seed and step, rounding_key): a
// counter-based generator, so the bits depend on nothing but these (not threads, not chunks).
[[maybe_unused]] std::uint32_t rounding_bits(std::uint32_t key, std::uint64_t index) noexcept {
  return mix32(mix32(static_cast<std::uint32_t>(index) ^ key) +
               static_cast<std::uint32_t>(index >> 32));
}

// The key of one step's stochastic rounding.
[[maybe_unused]] std::uint32_t rounding_key(std::uint64_t seed, std::uint64_t step) noexcept {
  std::uint32_t k = mix32(static_cast<std::uint32_t>(seed) ^ 0x9e3779b9U);
  k = mix32(k ^ static_cast<std::uint32_t>(seed >> 32));
  k = mix32(k ^ static_cast<std::uint32_t>(step));
  return mix32(k ^ static_cast<std::uint32_t>(step >> 32));
}

[[maybe_unused]] float f32_from_bf16(std::uint16_t h) noexcept {
  std::uint32_t u = std::uint32_t{h} << 16;
  if ((u & 0x7fffffffU) > 0x7f800000U) u |= 0x00400000U;
  return std::bit_cast<float>(u);
}

[[maybe_unused]] std::uint16_t f16_from_f32(float x) noexcept {
  const std::uint32_t u = std::bit_cast<std::uint32_t>(x);
  const std::uint32_t sign = (u >> 16) & 0x8000U;
  const std::uint32_t a = u & 0x7fffffffU;
  std::uint32_t r;
  if (a >= 0x47800000U) {  // |x| >= 65536 (or Inf, NaN): beyond every rounding to a finite half
    r = a > 0x7f800000U ? 0x7e00U | ((a >> 13) & 0x3ffU) : 0x7c00U;
  } else if (a < 0x38800000U) {  // |x| < 2^-14: a subnormal half or zero
    // 0.5 + |x| rounds |x| to a multiple of 2^-24 (fp16's smallest subnormal) to nearest-even,
    // in the low mantissa bits of a float in [0.5, 1).
    r = std::bit_cast<std::uint32_t>(std::bit_cast<float>(a) + 0.5f) - 0x3f000000U;
  } else {  // rebias the exponent, round the 13 dropped bits to nearest-even
    r = (a - 0x38000000U + 0xfffU + ((a >> 13) & 1U)) >> 13;
  }
  return static_cast<std::uint16_t>(r | sign);
}

[[maybe_unused]] float f32_from_f16(std::uint16_t h) noexcept {
  const std::uint32_t sign = (std::uint32_t{h} & 0x8000U) << 16;
  std::uint32_t o = (std::uint32_t{h} & 0x7fffU) << 13;
  const std::uint32_t exp = o & 0x0f800000U;
  if (exp == 0x0f800000U) {  // Inf or NaN
    o += 0x70000000U;
    if (o != 0x7f800000U) o |= 0x00400000U;
  } else if (exp == 0) {  // zero or subnormal: 2^-14 + m 2^-24, less 2^-14, exactly
    o = std::bit_cast<std::uint32_t>(std::bit_cast<float>(o + 0x38800000U) -
                                     std::bit_cast<float>(0x38800000U));
  } else {
    o += 0x38000000U;
  }
  return std::bit_cast<float>(o | sign);
}

}  // namespace
}  // namespace simdoptim::detail
