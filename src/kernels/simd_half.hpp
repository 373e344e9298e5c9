#pragma once
// One instruction set's conversions between a batch of floats and 16-bit storage (bfloat16,
// IEEE fp16): the scalar reference's integer arithmetic (kernels/half.hpp) lane by lane, so
// every build gives its bits; AVX-512F's fp16 conversion instructions, which give the same bits.
// The widening load, the narrowing store, logical shifts and NaN tests are per instruction set.
// Where the CPU has AVX-512 BF16, whole arrays narrow to bf16 with its instruction instead
// (store_bf16_array), and loops that convert in registers narrow by its instruction one batch at a
// time (store_bf16_by_instruction).
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

using IntBatch = xsimd::batch<std::int32_t, Arch>;

// kWidth 16-bit values, zero-extended into 32-bit lanes.
[[maybe_unused]] IntBatch widen_u16(const std::uint16_t* p) {
#if defined(__AVX512F__)
  return _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
#elif defined(__AVX2__)
  return _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
#elif defined(__SSE2__)
  return _mm_unpacklo_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)),
                            _mm_setzero_si128());
#elif defined(__aarch64__)
  return vreinterpretq_s32_u32(vmovl_u16(vld1_u16(p)));
#endif
}

// Stores the low 16 bits of each lane.
[[maybe_unused]] void narrow_u16(std::uint16_t* p, IntBatch v) {
#if defined(__AVX512F__)
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_cvtepi32_epi16(v));
#elif defined(__AVX2__)
  // packs saturates signed 32-bit lanes: sign-extend the low halves so they pass unchanged.
  const __m256i s = _mm256_srai_epi32(_mm256_slli_epi32(v, 16), 16);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm_packs_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)));
#elif defined(__SSE2__)
  const __m128i s = _mm_srai_epi32(_mm_slli_epi32(v, 16), 16);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi32(s, s));
#elif defined(__aarch64__)
  vst1_u16(p, vmovn_u32(vreinterpretq_u32_s32(v)));
#endif
}

// Reinterpretations. On NEON, xsimd 8.1's bitwise_cast takes the addresses of its inline
// wrappers, which every kernel object would then define as weak symbols (check_isa_symbols.sh);
// the intrinsics emit nothing.
[[maybe_unused]] IntBatch bits_of(Batch x) {
#if defined(__aarch64__)
  return vreinterpretq_s32_f32(x);
#else
  return xsimd::bitwise_cast<IntBatch>(x);
#endif
}
[[maybe_unused]] Batch float_of(IntBatch x) {
#if defined(__aarch64__)
  return vreinterpretq_f32_s32(x);
#else
  return xsimd::bitwise_cast<Batch>(x);
#endif
}

// Logical shift right by N (xsimd shifts signed lanes arithmetically).
template <int N>
IntBatch shift_right(IntBatch x) {
#if defined(__AVX512F__)
  return _mm512_srli_epi32(x, N);
#elif defined(__AVX2__)
  return _mm256_srli_epi32(x, N);
#elif defined(__SSE2__)
  return _mm_srli_epi32(x, N);
#elif defined(__aarch64__)
  return vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(x), N));
#endif
}

// Logical shifts of each lane by its own count in s (0..31).
[[maybe_unused]] IntBatch shift_right(IntBatch x, IntBatch s) {
#if defined(__AVX512F__)
  return _mm512_srlv_epi32(x, s);
#elif defined(__AVX2__)
  return _mm256_srlv_epi32(x, s);
#elif defined(__SSE2__)
  alignas(16) std::array<std::uint32_t, kWidth> v, n;
  _mm_store_si128(reinterpret_cast<__m128i*>(v.data()), x);
  _mm_store_si128(reinterpret_cast<__m128i*>(n.data()), s);
  for (std::size_t k = 0; k < kWidth; ++k) v[k] >>= n[k];
  return _mm_load_si128(reinterpret_cast<const __m128i*>(v.data()));
#elif defined(__aarch64__)
  return vreinterpretq_s32_u32(vshlq_u32(vreinterpretq_u32_s32(x), vnegq_s32(s)));
#endif
}

// bf16_from_f32, in the low 16 bits of each lane.
[[maybe_unused]] IntBatch bf16_bits(Batch x) {
  const IntBatch u = bits_of(x);
  const IntBatch high = shift_right<16>(u);
  const IntBatch rounded = shift_right<16>(u + IntBatch(0x7fff) + (high & IntBatch(1)));
#if defined(__AVX512F__)
  // A NaN test and a masked OR: two instructions where the integer select takes four.
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_or_epi32(rounded, nan, high, _mm512_set1_epi32(0x40));
#else
  const IntBatch a = u & IntBatch(0x7fffffff);
  return xsimd::select(a > IntBatch(0x7f800000), high | IntBatch(0x40), rounded);
#endif
}

// f32_from_bf16 of the low 16 bits of each lane (zero-extended).
[[maybe_unused]] Batch from_bf16_bits(IntBatch h) {
  const IntBatch u = h << 16;
#if defined(__AVX512F__)
  const __m512 x = _mm512_castsi512_ps(u);
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_castsi512_ps(_mm512_mask_or_epi32(u, nan, u, _mm512_set1_epi32(0x00400000)));
#else
  const IntBatch a = u & IntBatch(0x7fffffff);
  return float_of(xsimd::select(a > IntBatch(0x7f800000), u | IntBatch(0x00400000), u));
#endif
}

// f16_from_f32, in the low 16 bits of each lane.
[[maybe_unused]] IntBatch f16_bits(Batch x) {
  const IntBatch u = bits_of(x);
  const IntBatch sign = shift_right<16>(u) & IntBatch(0x8000);
  const IntBatch a = u & IntBatch(0x7fffffff);
  const IntBatch special =
      xsimd::select(a > IntBatch(0x7f800000),
                    IntBatch(0x7e00) | (shift_right<13>(a) & IntBatch(0x3ff)), IntBatch(0x7c00));
  const IntBatch tiny = bits_of(float_of(a) + Batch(0.5f)) - IntBatch(0x3f000000);
  const IntBatch normal = shift_right<13>(a - IntBatch(0x38000000) + IntBatch(0xfff) +
                                          (shift_right<13>(a) & IntBatch(1)));
  const IntBatch r = xsimd::select(a >= IntBatch(0x47800000), special,
                                   xsimd::select(a < IntBatch(0x38800000), tiny, normal));
  return r | sign;
}

// f32_from_f16 of the low 16 bits of each lane (zero-extended).
[[maybe_unused]] Batch from_f16_bits(IntBatch h) {
  const IntBatch sign = (h & IntBatch(0x8000)) << 16;
  const IntBatch o = (h & IntBatch(0x7fff)) << 13;
  const IntBatch exp = o & IntBatch(0x0f800000);
  const IntBatch inf_nan = o + IntBatch(0x70000000);
  const IntBatch special =
      xsimd::select(inf_nan == IntBatch(0x7f800000), inf_nan, inf_nan | IntBatch(0x00400000));
  const IntBatch tiny =
      bits_of(float_of(o + IntBatch(0x38800000)) - float_of(IntBatch(0x38800000)));
  const IntBatch r =
      xsimd::select(exp == IntBatch(0x0f800000), special,
                    xsimd::select(exp == IntBatch(0), tiny, o + IntBatch(0x38000000)));
  return float_of(r | sign);
}

using UintBatch = xsimd::batch<std::uint32_t, Arch>;

// rounding_bits(key, index + lane) in each lane; index is a multiple of kWidth.
[[maybe_unused]] IntBatch rounding_bits(std::uint32_t key, std::uint64_t index) {
  static constexpr auto kLanes = [] {
    std::array<std::uint32_t, kWidth> l{};
    for (std::size_t k = 0; k < kWidth; ++k) l[k] = static_cast<std::uint32_t>(k);
    return l;
  }();
  auto mix = [](UintBatch x) {
    x ^= x >> 16;
    x *= UintBatch(0x7feb352dU);
    x ^= x >> 15;
    x *= UintBatch(0x846ca68bU);
    x ^= x >> 16;
    return x;
  };
  const UintBatch i =
      UintBatch(static_cast<std::uint32_t>(index)) + UintBatch::load_unaligned(kLanes.data());
  const UintBatch bits =
      mix(mix(i ^ UintBatch(key)) + UintBatch(static_cast<std::uint32_t>(index >> 32)));
#if defined(__aarch64__)
  return vreinterpretq_s32_u32(bits);
#else
  return xsimd::bitwise_cast<IntBatch>(bits);
#endif
}

// bf16_from_f32_stochastic with random bits r, in the low 16 bits of each lane.
[[maybe_unused]] IntBatch bf16_bits_stochastic(Batch x, IntBatch r) {
  const IntBatch u = bits_of(x);
  const IntBatch rounded = shift_right<16>(u + (r & IntBatch(0xffff)));
#if defined(__AVX512F__)
  const __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_or_epi32(rounded, nan, shift_right<16>(u), _mm512_set1_epi32(0x40));
#else
  const IntBatch a = u & IntBatch(0x7fffffff);
  return xsimd::select(a > IntBatch(0x7f800000), shift_right<16>(u) | IntBatch(0x40), rounded);
#endif
}

[[maybe_unused]] Batch load_bf16(const std::uint16_t* p) {
  return from_bf16_bits(widen_u16(p));
}
// load_bf16 with signalling NaNs left signalling, for loops whose every result is narrowed to
// bf16: x86 arithmetic returns a NaN operand's payload made quiet whether it was signalling or
// not, and narrowing makes quiet any NaN passed through unchanged, so the stored bits are those
// of load_bf16.
[[maybe_unused]] Batch load_bf16_signalling(const std::uint16_t* p) {
  return float_of(widen_u16(p) << 16);
}
[[maybe_unused]] void store_bf16(std::uint16_t* p, Batch x) {
  narrow_u16(p, bf16_bits(x));
}
// AVX-512F's conversions give the reference's bits (exact widening, NaN made quiet with its
// payload; nearest-even narrowing, subnormal results kept), whatever MXCSR's DAZ and FTZ say
// (tests/test_half_conversions.cpp checks every pattern under both).
[[maybe_unused]] Batch load_f16(const std::uint16_t* p) {
#if defined(__AVX512F__)
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
#else
  return from_f16_bits(widen_u16(p));
#endif
}
[[maybe_unused]] void store_f16(std::uint16_t* p, Batch x) {
#if defined(__AVX512F__)
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#else
  narrow_u16(p, f16_bits(x));
#endif
}

#if defined(__AVX512F__)
// vcvtneps2bf16 and vcvtne2ps2bf16 round to nearest-even and quiet NaNs as bf16_bits does,
// whatever MXCSR says, but read subnormal inputs as zero. So lanes with a zero exponent field
// (zeros and subnormals) are raised by FLT_MIN's bits into [FLT_MIN, 2 FLT_MIN), a binade whose
// step is theirs, where the instruction rounds them at their own bit; a masked subtraction takes
// FLT_MIN's bf16 bits (0x80) off the results again. Integer operations only, so DAZ changes
// nothing, and no branch. `low` receives the raised lanes.
[[maybe_unused]] __m512 raise_zero_exponents(__m512 x, __mmask16& low) {
  const __m512i u = _mm512_castps_si512(x);
  low = _mm512_testn_epi32_mask(u, _mm512_set1_epi32(0x7f800000));
  return _mm512_castsi512_ps(_mm512_mask_add_epi32(u, low, u, _mm512_set1_epi32(0x00800000)));
}

// n floats (a multiple of kWidth) stored as bf16, for CPUs with AVX-512 BF16 and BW
// (kernels/bf16_instructions.hpp). Not inlined: the rest of the kernel runs on CPUs without the
// extension.
[[gnu::target("avx512bf16,avx512bw"), gnu::noinline, maybe_unused]] void store_bf16_array(
    std::uint16_t* dst, const float* src, std::size_t n) {
  std::size_t j = 0;
  for (; j + 2 * kWidth <= n; j += 2 * kWidth) {
    __mmask16 low_lo, low_hi;
    const __m512 lo = raise_zero_exponents(_mm512_loadu_ps(src + j), low_lo);
    const __m512 hi = raise_zero_exponents(_mm512_loadu_ps(src + j + kWidth), low_hi);
    const __m512i h = std::bit_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
    _mm512_storeu_si512(dst + j, _mm512_mask_sub_epi16(h, _mm512_kunpackw(low_hi, low_lo), h,
                                                       _mm512_set1_epi16(0x80)));
  }
  if (j < n) store_bf16(dst + j, _mm512_loadu_ps(src + j));
}

// Loops that convert in registers narrow by vcvtneps2bf16, only where the CPU has AVX-512 BF16.
// Inline assembly, not the intrinsic: the intrinsic needs the extension enabled in every function
// it is inlined through, and the loop around it runs the rule's own code.
// The bf16 bits of x, subnormal lanes read as zeros of their sign, in the low half.
[[maybe_unused]] __m512i bf16_by_instruction(__m512 x) {
  __m512i h;
  asm("vcvtneps2bf16 %1, %t0" : "=v"(h) : "v"(x));
  return h;
}
// store_bf16 of x with subnormal lanes flushed to zeros of their sign.
[[maybe_unused]] void store_bf16_flushed(std::uint16_t* p, Batch x) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_castsi512_si256(bf16_by_instruction(x)));
}
// store_bf16 of x (raise_zero_exponents).
[[maybe_unused]] void store_bf16_by_instruction(std::uint16_t* p, Batch x) {
  __mmask16 low;
  __m512i h = bf16_by_instruction(raise_zero_exponents(x, low));
  // AVX-512 BW, which the CPUs with AVX-512 BF16 that run these loops have.
  asm("vpsubw %1, %0, %0%{%2%}" : "+v"(h) : "v"(_mm512_set1_epi16(0x80)), "Yk"(low));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm512_castsi512_si256(h));
}
#endif

// x rounded to bf16 or fp16 and widened back, in registers.
[[maybe_unused]] Batch round_bf16(Batch x) {
  return from_bf16_bits(bf16_bits(x));
}
[[maybe_unused]] Batch round_f16(Batch x) {
#if defined(__AVX512F__)
  return _mm512_cvtph_ps(_mm512_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#else
  return from_f16_bits(f16_bits(x));
#endif
}

}  // namespace
}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
