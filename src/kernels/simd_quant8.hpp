#pragma once
// One instruction set's 8-bit block quantizer: the scalar reference's integer arithmetic
// (kernels/quant8.hpp) lane by lane, so every build gives its bits. Only the byte loads and
// stores are per instruction set.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "kernels/quant8.hpp"
#include "kernels/simd_half.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

// kWidth bytes, zero-extended into 32-bit lanes.
[[maybe_unused]] IntBatch widen_u8(const std::uint8_t* p) {
#if defined(__AVX512F__)
  return _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#elif defined(__AVX2__)
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
#elif defined(__SSE2__)
  std::int32_t four;
  std::memcpy(&four, p, sizeof four);
  const __m128i z = _mm_setzero_si128();
  return _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(four), z), z);
#elif defined(__aarch64__)
  std::uint32_t four;
  std::memcpy(&four, p, sizeof four);
  const uint8x8_t b = vreinterpret_u8_u32(vdup_n_u32(four));
  return vreinterpretq_s32_u32(vmovl_u16(vget_low_u16(vmovl_u8(b))));
#endif
}

// Stores the low byte of each lane (lanes hold 0..255).
[[maybe_unused]] void narrow_u8(std::uint8_t* p, IntBatch v) {
#if defined(__AVX512F__)
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v));
#elif defined(__AVX2__)
  const __m128i h = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packus_epi16(h, h));
#elif defined(__SSE2__)
  const __m128i h = _mm_packs_epi32(v, v);
  const std::int32_t four = _mm_cvtsi128_si32(_mm_packus_epi16(h, h));
  std::memcpy(p, &four, sizeof four);
#elif defined(__aarch64__)
  const uint16x4_t h = vmovn_u32(vreinterpretq_u32_s32(v));
  const uint8x8_t b = vmovn_u16(vcombine_u16(h, h));
  const std::uint32_t four = vget_lane_u32(vreinterpret_u32_u8(b), 0);
  std::memcpy(p, &four, sizeof four);
#endif
}

// rne_shift of each lane; lanes hold x < 2^31 - 2^s.
[[maybe_unused]] IntBatch rne_shift(IntBatch x, int s) {
  return (x + IntBatch((1 << (s - 1)) - 1) + ((x >> s) & IntBatch(1))) >> s;
}

// encode_magnitude<M> of each lane; lanes that are not normal finite magnitudes give garbage
// (the caller selects them away).
template <int M>
IntBatch encode_magnitude(IntBatch a, IntBatch es) {
  const IntBatch ec = shift_right<23>(a) - es + IntBatch(14);
  const IntBatch t = (ec << 23) | (a & IntBatch(0x7fffff));
  const IntBatch rounded = rne_shift(t, 23 - M);
  const IntBatch max(Quant8Codes<M>::kMax);
  const IntBatch normal = xsimd::select(rounded > max, max, rounded);
  const IntBatch sig = (a & IntBatch(0x7fffff)) | IntBatch(0x800000);
  IntBatch r = IntBatch(0);
  for (int k = 0; k <= M; ++k) r = xsimd::select(ec == IntBatch(-k), rne_shift(sig, 24 - M + k), r);
  return xsimd::select(ec >= IntBatch(1), normal, r);
}

// decode_magnitude<M> of each lane.
template <int M>
Batch decode_magnitude(IntBatch c) {
  const IntBatch e = shift_right<M>(c), m = c & IntBatch((1 << M) - 1);
  // m exactly as a float: 2^23 + m less 2^23, an exact subtraction of normal numbers.
  const Batch mf = float_of(IntBatch(0x4b000000) | m) - Batch(0x1p23f);
  const Batch sub = mf * float_of(IntBatch((127 - 13 - M) << 23));
  const Batch normal = float_of(((e + IntBatch(127 - 14)) << 23) | (m << (23 - M)));
  return float_of(xsimd::select(e == IntBatch(0), bits_of(sub), bits_of(normal)));
}

// quant8_flush of each lane.
[[maybe_unused]] Batch quant8_flush(Batch x) {
  const IntBatch u = bits_of(x);
  return float_of(xsimd::select((u & IntBatch(0x7f800000)) == IntBatch(0),
                                u & IntBatch(std::int32_t{-0x7fffffff - 1}), u));
}

[[maybe_unused]] IntBatch encode_signed(Batch x, IntBatch es) {
  const IntBatch u = bits_of(x);
  const IntBatch sign = shift_right<24>(u) & IntBatch(0x80);
  const IntBatch a = u & IntBatch(0x7fffffff);
  IntBatch c = xsimd::select(a < IntBatch(0x00800000), IntBatch(0), encode_magnitude<3>(a, es));
  c = xsimd::select(a == IntBatch(0x7f800000), IntBatch(SignedCodes::kInf), c);
  c = xsimd::select(a > IntBatch(0x7f800000), IntBatch(SignedCodes::kNaN), c);
  return c | sign;
}

[[maybe_unused]] IntBatch encode_unsigned(Batch x, IntBatch es) {
  const IntBatch u = bits_of(x);
  const IntBatch a = u & IntBatch(0x7fffffff);
  // Negative values give 0 (u < 0 as signed lanes), as do subnormals.
  IntBatch c = xsimd::select(u < IntBatch(0x00800000), IntBatch(0),
                             encode_magnitude<4>(bits_of(sqrt(x)), es));
  c = xsimd::select(u == IntBatch(0x7f800000), IntBatch(UnsignedCodes::kInf), c);
  return xsimd::select(a > IntBatch(0x7f800000), IntBatch(UnsignedCodes::kNaN), c);
}

[[maybe_unused]] Batch decode_signed(IntBatch code, Batch scale) {
  const IntBatch sign = (code & IntBatch(0x80)) << 24;
  const IntBatch c = code & IntBatch(0x7f);
  const Batch value = quant8_flush(float_of(bits_of(decode_magnitude<3>(c)) | sign) * scale);
  IntBatch r = bits_of(value);
  r = xsimd::select(c == IntBatch(SignedCodes::kInf), IntBatch(0x7f800000) | sign, r);
  r = xsimd::select(c == IntBatch(SignedCodes::kNaN), IntBatch(0x7fc00000) | sign, r);
  return float_of(r);
}

[[maybe_unused]] Batch decode_unsigned(IntBatch code, Batch scale) {
  const Batch m = decode_magnitude<4>(code);
  IntBatch r = bits_of(quant8_flush(m * m * scale));
  r = xsimd::select(code == IntBatch(UnsignedCodes::kInf), IntBatch(0x7f800000), r);
  r = xsimd::select(code == IntBatch(UnsignedCodes::kNaN), IntBatch(0x7fc00000), r);
  return float_of(r);
}

// quant8_encode_block, n a multiple of kWidth.
[[maybe_unused]] float encode_block(const float* x, std::uint8_t* codes, std::size_t n,
                                    bool non_negative) {
  IntBatch amax(0);
  const IntBatch magnitude_mask(non_negative ? -1 : 0x7fffffff);
  for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
    // Signed lanes: non-negative states' negative values compare below amax's start, 0.
    const IntBatch a = bits_of(load(x + j)) & magnitude_mask;
    amax = xsimd::select((a < IntBatch(0x7f800000)) & (a > amax), a, amax);
  }
  alignas(64) std::array<std::int32_t, kWidth> lanes{};
  amax.store_aligned(lanes.data());
  const auto largest = static_cast<std::uint32_t>(*std::max_element(lanes.begin(), lanes.end()));
  const std::int32_t e = quant8_scale_exponent(largest, non_negative);
  const IntBatch es(e);
  if (non_negative)
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth)
      narrow_u8(codes + j, encode_unsigned(load(x + j), es));
  else
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth)
      narrow_u8(codes + j, encode_signed(load(x + j), es));
  return quant8_scale(e, non_negative);
}

// quant8_decode_block, n a multiple of kWidth.
[[maybe_unused]] void decode_block(const std::uint8_t* codes, float scale, float* x, std::size_t n,
                                   bool non_negative) {
  const Batch s(scale);
  if (non_negative)
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth)
      decode_unsigned(widen_u8(codes + j), s).store_aligned(x + j);
  else
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth)
      decode_signed(widen_u8(codes + j), s).store_aligned(x + j);
}

}  // namespace
}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
