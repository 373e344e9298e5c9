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

// The codes of a finite block whose scale has biased exponent es (the root's for non-negative
// states), es >= 15 + M. The common batch takes a shortcut: every lane either has a normal code
// (exponent field at least 1), which is the float's bits re-biased and rounded to M mantissa
// bits, or is at most half the smallest subnormal code, whose re-biased bits are below
// -M * 2^23 and round to a negative number, clamped to code 0. Batches with a subnormal code
// take the general encoding.
template <int M>
class BlockEncoder {
 public:
  explicit BlockEncoder(std::int32_t es)
      : bias_(14 - es),
        rebias_((es - 14) * (1 << 23)),
        normal_((es - 13) * (1 << 23)),
        zero_((es - 14 - M) * (1 << 23)) {}

  // a: the magnitude bits (of the root for non-negative states), at most the block's largest;
  // slow(bias): the general encoding.
  template <class Slow>
  IntBatch operator()(IntBatch a, Slow slow) const {
    if (xsimd::any((a > zero_) & (a < normal_))) return slow(bias_);
    const IntBatch c = rne_shift(a - rebias_, 23 - M);
    return xsimd::min(xsimd::max(c, IntBatch(0)), IntBatch(Quant8Codes<M>::kMax));
  }

 private:
  IntBatch bias_, rebias_, normal_, zero_;
};

// quant8_encode_block, n a multiple of kWidth.
template <bool NonNegative>
float encode_block_of(const float* x, std::uint8_t* codes, std::size_t n) {
  // The largest magnitude (NaN and Inf above every finite one) and, for non-negative states, the
  // largest value (negative values' bits are negative lanes), by four maxima in registers so
  // that no chain of dependent maxima spans the block.
  IntBatch magnitude[4] = {IntBatch(0), IntBatch(0), IntBatch(0), IntBatch(0)};
  IntBatch value[4] = {IntBatch(0), IntBatch(0), IntBatch(0), IntBatch(0)};
  const auto take = [&](std::size_t at, int k) {
    const IntBatch u = bits_of(load(x + at));
    magnitude[k] = xsimd::max(magnitude[k], u & IntBatch(0x7fffffff));
    if constexpr (NonNegative) value[k] = xsimd::max(value[k], u);
  };
  std::size_t i = 0;
  for (; i + 4 * kWidth <= n; i += 4 * kWidth)
    for (int k = 0; k < 4; ++k) take(i + static_cast<std::size_t>(k) * kWidth, k);
  for (; i + kWidth <= n; i += kWidth) take(i, 0);
  const auto largest = [](const IntBatch(&m)[4]) {
    return static_cast<std::uint32_t>(
        max_lane(xsimd::max(xsimd::max(m[0], m[1]), xsimd::max(m[2], m[3]))));
  };
  const std::uint32_t top = largest(magnitude);
  const bool finite = top < 0x7f800000U;
  // With NaN or Inf the largest finite value is the reference's search.
  const std::uint32_t amax = !finite       ? quant8_max_bits(x, n, NonNegative)
                             : NonNegative ? largest(value)
                                           : top;
  constexpr int M = NonNegative ? 4 : 3;
  const std::int32_t e = quant8_scale_exponent(amax, NonNegative);
  if (finite && e >= 15 + M) {
    const BlockEncoder<M> encoder(e);
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
      const Batch v = load(x + j);
      const IntBatch u = bits_of(v);
      if constexpr (NonNegative) {
        // Negative values and subnormals are code 0, whatever their roots: a root of 0 is.
        const IntBatch root =
            xsimd::select(u < IntBatch(0x00800000), IntBatch(0), bits_of(sqrt(v)));
        narrow_u8(codes + j,
                  encoder(root, [&](IntBatch bias) { return encode_unsigned(v, bias); }));
      } else {
        const IntBatch sign = shift_right<24>(u) & IntBatch(0x80);
        narrow_u8(codes + j, encoder(u & IntBatch(0x7fffffff), [&](IntBatch bias) {
                               return encode_signed(v, bias) & IntBatch(0x7f);
                             }) | sign);
      }
    }
  } else {
    const IntBatch bias(14 - e);
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
      const Batch v = load(x + j);
      narrow_u8(codes + j, NonNegative ? encode_unsigned(v, bias) : encode_signed(v, bias));
    }
  }
  return quant8_scale(e, NonNegative);
}

[[maybe_unused]] float encode_block(const float* x, std::uint8_t* codes, std::size_t n,
                                    bool non_negative) {
  return non_negative ? encode_block_of<true>(x, codes, n) : encode_block_of<false>(x, codes, n);
}

// Whether every code of p[0, n), masked by `mask`, is 0 or in [lo, hi]: one check of a block's
// bytes, a vector of 32 (AVX2) or 16 at a time, instead of one per batch of decoded lanes.
[[maybe_unused]] bool codes_within(const std::uint8_t* p, std::size_t n, std::uint8_t mask,
                                   std::uint8_t lo, std::uint8_t hi) {
#if defined(__AVX2__)
  constexpr std::size_t kBytes = 32;
#else
  constexpr std::size_t kBytes = 16;
#endif
  using Bytes [[gnu::vector_size(kBytes)]] = std::uint8_t;
  const auto span = static_cast<std::uint8_t>(hi - lo);
  Bytes good = ~Bytes{};
  std::size_t j = 0;
  for (; j + kBytes <= n; j += kBytes) {
    Bytes c;
    std::memcpy(&c, p + j, kBytes);
    c &= mask;
    // c - lo wraps below lo: in range exactly when at most hi - lo.
    good &= reinterpret_cast<Bytes>((c - lo <= span) | (c == 0));
  }
  std::array<std::uint64_t, kBytes / 8> words;
  std::memcpy(words.data(), &good, kBytes);
  bool ok = true;
  for (std::uint64_t w : words) ok = ok && w == ~std::uint64_t{0};
  for (; j < n; ++j) {
    const unsigned c = p[j] & mask;
    ok = ok && (c == 0 || (c >= lo && c <= hi));
  }
  return ok;
}

// quant8_decode_block, n a multiple of kWidth. A block with only zero codes and normal codes
// whose value times the scale is normal builds the floats' bits directly; others (subnormal
// codes or results, NaN, Inf) take the general decoding.
[[maybe_unused]] void decode_block(const std::uint8_t* codes, float scale, float* x, std::size_t n,
                                   bool non_negative) {
  const Batch s(scale);
  if (non_negative) {
    // The smallest normal code's value squared is 2^-26: times a scale of at least 2^-100 it
    // is normal.
    if (scale >= 0x1p-100f && codes_within(codes, n, 0xff, 1 << 4, UnsignedCodes::kMax)) {
      for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
        const IntBatch code = widen_u8(codes + j);
        const Batch m = float_of((code << 19) + IntBatch((127 - 14) << 23));
        float_of(xsimd::select(code == IntBatch(0), IntBatch(0), bits_of(m * m * s)))
            .store_aligned(x + j);
      }
    } else {
      for (std::size_t j = 0; j + kWidth <= n; j += kWidth)
        decode_unsigned(widen_u8(codes + j), s).store_aligned(x + j);
    }
    return;
  }
  // Normal codes whose value is a normal float: exponent field at least 15 - es.
  const std::int32_t es = static_cast<std::int32_t>(std::bit_cast<std::uint32_t>(scale) >> 23);
  const int lowest = std::max(15 - es, 1) << 3;
  if (lowest <= static_cast<int>(SignedCodes::kMax) &&
      codes_within(codes, n, 0x7f, static_cast<std::uint8_t>(lowest), SignedCodes::kMax)) {
    const IntBatch rebias((es - 14) * (1 << 23));
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth) {
      const IntBatch code = widen_u8(codes + j);
      const IntBatch c = code & IntBatch(0x7f);
      const IntBatch sign = (code << 24) & IntBatch(std::int32_t{-0x7fffffff - 1});
      const IntBatch r = xsimd::select(c == IntBatch(0), IntBatch(0), (c << 20) + rebias);
      float_of(r | sign).store_aligned(x + j);
    }
  } else {
    for (std::size_t j = 0; j + kWidth <= n; j += kWidth)
      decode_signed(widen_u8(codes + j), s).store_aligned(x + j);
  }
}

}  // namespace
}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
