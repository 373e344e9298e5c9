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

// The largest lane, by a tree of maxima rather than a chain through every lane.
[[maybe_unused]] std::int32_t max_lane(IntBatch v) {
#if defined(__AVX512F__)
  return _mm512_reduce_max_epi32(v);
#elif defined(__AVX2__)
  __m256i m = _mm256_max_epi32(v, _mm256_permute2x128_si256(v, v, 1));
  m = _mm256_max_epi32(m, _mm256_shuffle_epi32(m, 0x4e));
  m = _mm256_max_epi32(m, _mm256_shuffle_epi32(m, 0xb1));
  return _mm256_cvtsi256_si32(m);
#elif defined(__SSE2__)
  alignas(16) std::array<std::int32_t, 4> l{};
  v.store_aligned(l.data());
  return std::max(std::max(l[0], l[1]), std::max(l[2], l[3]));
#elif defined(__aarch64__)
  return vmaxvq_s32(v);
#endif
}

// rne_shift of each lane; lanes hold x < 2^31 - 2^s.
[[maybe_unused]] IntBatch rne_shift(IntBatch x, int s) {
  return (x + IntBatch((1 << (s - 1)) - 1) + ((x >> s) & IntBatch(1))) >> s;
}

// encode_magnitude<M> of each lane, normal and subnormal codes by one rounding shift: a code is
// (e - 1) << M plus the 24-bit significand rounded to units of its binade's step, and the
// subnormal codes (e = 0) have the step of e = 1, shifted further by 1 - ec. Lanes that are not
// normal finite magnitudes give garbage (the caller selects them away). bias = 14 - es.
template <int M>
IntBatch encode_magnitude(IntBatch a, IntBatch bias) {
  const IntBatch ec = shift_right<23>(a) + bias;
  const IntBatch e = xsimd::max(ec, IntBatch(1));
  // Counts past 24 - M + M give 0 as the reference does; 31 keeps the shifts defined.
  const IntBatch s = xsimd::min(IntBatch(23 - M) + e - ec, IntBatch(31));
  const IntBatch sig = (a & IntBatch(0x7fffff)) | IntBatch(0x800000);
  const IntBatch half = shift_right(IntBatch(1 << 30), IntBatch(31) - s);  // 2^(s - 1)
  const IntBatch odd = shift_right(sig, s) & IntBatch(1);
  const IntBatch r = shift_right(sig + half - IntBatch(1) + odd, s);
  return xsimd::min((e << M) - IntBatch(1 << M) + r, IntBatch(Quant8Codes<M>::kMax));
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

[[maybe_unused]] IntBatch encode_signed(Batch x, IntBatch bias) {
  const IntBatch u = bits_of(x);
  const IntBatch sign = shift_right<24>(u) & IntBatch(0x80);
  const IntBatch a = u & IntBatch(0x7fffffff);
  IntBatch c = xsimd::select(a < IntBatch(0x00800000), IntBatch(0), encode_magnitude<3>(a, bias));
  c = xsimd::select(a == IntBatch(0x7f800000), IntBatch(SignedCodes::kInf), c);
  c = xsimd::select(a > IntBatch(0x7f800000), IntBatch(SignedCodes::kNaN), c);
  return c | sign;
}

[[maybe_unused]] IntBatch encode_unsigned(Batch x, IntBatch bias) {
  const IntBatch u = bits_of(x);
  const IntBatch a = u & IntBatch(0x7fffffff);
  // Negative values give 0 (u < 0 as signed lanes), as do subnormals.
  IntBatch c = xsimd::select(u < IntBatch(0x00800000), IntBatch(0),
                             encode_magnitude<4>(bits_of(sqrt(x)), bias));
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

// The codes of a block whose scale has biased exponent es (the root's for non-negative states),
// with a shortcut for the common batch: every lane either has a normal code (exponent field at
// least 1), which is the float's bits re-biased and rounded to M mantissa bits, or certainly
// code 0 (at most half the smallest subnormal code, zero, or a subnormal input). Other batches
// (subnormal codes, NaN, Inf) take the general encoding.
template <int M>
class BlockEncoder {
 public:
  explicit BlockEncoder(std::int32_t es)
      : bias_(14 - es),
        rebias_((es - 14) * (1 << 23)),
        normal_(std::max(es - 13, 1) * (1 << 23)),
        zero_(es - 14 - M >= 1 ? (es - 14 - M) * (1 << 23) : 0x7fffff) {}

  // a: the magnitude bits (of the root for non-negative states); zero: lanes known to be code 0;
  // slow(bias): the general encoding.
  template <class Slow>
  IntBatch operator()(IntBatch a, xsimd::batch_bool<std::int32_t, Arch> zero, Slow slow) const {
    zero = zero | (a <= zero_);
    if (!xsimd::all(zero | ((a >= normal_) & (a < IntBatch(0x7f800000))))) return slow(bias_);
    const IntBatch c = xsimd::min(rne_shift(a - rebias_, 23 - M), IntBatch(Quant8Codes<M>::kMax));
    return xsimd::select(zero, IntBatch(0), c);
  }

 private:
  IntBatch bias_, rebias_, normal_, zero_;
};

// quant8_encode_block, n a multiple of kWidth.
[[maybe_unused]] float encode_block(const float* x, std::uint8_t* codes, std::size_t n,
                                    bool non_negative) {
  // Signed lanes: non-negative states' negative values are below the maxima's start, 0.
  const IntBatch magnitude_mask(non_negative ? -1 : 0x7fffffff);
  const auto finite = [&](std::size_t at) {
    const IntBatch a = bits_of(load(x + at)) & magnitude_mask;
    return xsimd::select(a < IntBatch(0x7f800000), a, IntBatch(0));
  };
  // Four maxima in registers, so that no chain of dependent maxima spans the block.
  IntBatch m0(0), m1(0), m2(0), m3(0);
  std::size_t i = 0;
  for (; i + 4 * kWidth <= n; i += 4 * kWidth) {
    m0 = xsimd::max(m0, finite(i));
    m1 = xsimd::max(m1, finite(i + kWidth));
    m2 = xsimd::max(m2, finite(i + 2 * kWidth));
    m3 = xsimd::max(m3, finite(i + 3 * kWidth));
  }
  for (; i + kWidth <= n; i += kWidth) m0 = xsimd::max(m0, finite(i));
  const auto largest =
      static_cast<std::uint32_t>(max_lane(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3))));
  const std::int32_t e = quant8_scale_exponent(largest, non_negative);
  if (non_negative) {
    const BlockEncoder<4> encoder(e);
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
      const Batch v = load(x + j);
      const IntBatch u = bits_of(v);
      // Negative values (but -NaN) and subnormals are code 0, whatever their roots; NaN and
      // Inf have roots the shortcut refuses.
      const IntBatch root = bits_of(sqrt(v)) & IntBatch(0x7fffffff);
      const auto zero =
          (u < IntBatch(0x00800000)) & ((u & IntBatch(0x7fffffff)) <= IntBatch(0x7f800000));
      narrow_u8(codes + j,
                encoder(root, zero, [&](IntBatch bias) { return encode_unsigned(v, bias); }));
    }
  } else {
    const BlockEncoder<3> encoder(e);
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
      const Batch v = load(x + j);
      const IntBatch u = bits_of(v);
      const IntBatch sign = shift_right<24>(u) & IntBatch(0x80);
      const IntBatch a = u & IntBatch(0x7fffffff);
      narrow_u8(codes + j, encoder(a, a < IntBatch(0), [&](IntBatch bias) {
                             return encode_signed(v, bias) & IntBatch(0x7f);
                           }) | sign);
    }
  }
  return quant8_scale(e, non_negative);
}

// quant8_decode_block, n a multiple of kWidth. A batch with only zero codes and normal codes
// whose value times the scale is normal builds the floats' bits directly; others (subnormal
// codes or results, NaN, Inf) take the general decoding.
[[maybe_unused]] void decode_block(const std::uint8_t* codes, float scale, float* x, std::size_t n,
                                   bool non_negative) {
  const Batch s(scale);
  if (non_negative) {
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
      const IntBatch code = widen_u8(codes + j);
      const auto zero = code == IntBatch(0);
      if (xsimd::all(zero |
                     ((code >= IntBatch(1 << 4)) & (code <= IntBatch(UnsignedCodes::kMax))))) {
        const Batch m = float_of((code << 19) + IntBatch((127 - 14) << 23));
        const Batch v = quant8_flush(m * m * s);
        float_of(xsimd::select(zero, IntBatch(0), bits_of(v))).store_aligned(x + j);
      } else {
        decode_unsigned(code, s).store_aligned(x + j);
      }
    }
    return;
  }
  // Normal codes whose value is a normal float: exponent field at least 15 - es.
  const std::int32_t es = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(scale) >> 23);
  const IntBatch lowest(std::max(15 - es, 1) << 3);
  const IntBatch rebias((es - 14) * (1 << 23));
  for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
    const IntBatch code = widen_u8(codes + j);
    const IntBatch c = code & IntBatch(0x7f);
    const auto zero = c == IntBatch(0);
    if (xsimd::all(zero | ((c >= lowest) & (c <= IntBatch(SignedCodes::kMax))))) {
      const IntBatch sign = (code << 24) & IntBatch(std::int32_t{-0x7fffffff - 1});
      const IntBatch r = xsimd::select(zero, IntBatch(0), (c << 20) + rebias);
      float_of(r | sign).store_aligned(x + j);
    } else {
      decode_signed(code, s).store_aligned(x + j);
    }
  }
}

}  // namespace
}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
