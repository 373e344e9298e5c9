#pragma once
// Shared by the kernel sources' per-instruction-set builds (kernels/kernel_source.hpp,
// optim/rule_kernel.hpp), which CMake compiles once per set with its flags, SIMDOPTIM_ISA_NS
// naming the namespace, SIMDOPTIM_XSIMD_ARCH the xsimd architecture, and -ffp-contract=off: every
// operation in a kernel is the scalar reference's operation in the same order, so each build
// matches it bit for bit. Everything here has internal linkage, so builds for different sets never
// share a definition.
//
// Kernels use only the operations below and xsimd's +, -, *, abs, <, >, select, isnan,
// bitwise_xor, broadcasts, loads and stores. On aarch64 (xsimd 8.1's neon64, which inherits its
// float operations from neon) each of those is one exact instruction (fadd, fsub, fmul, fabs,
// fcmgt, bsl, fcmeq, eor, dup, ld1, st1); only float division and square root are not, hence
// div and sqrt here. tests/test_simd_ops.cpp holds every one of them, in every build, to the
// scalar reference's bits.
#include <cstdint>
#include <xsimd/xsimd.hpp>
#if defined(__SSE2__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

#include "kernels/bool_dispatch.hpp"
#include "kernels/kernel.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {
namespace {

using Arch = SIMDOPTIM_XSIMD_ARCH;
using Batch = xsimd::batch<float, Arch>;
constexpr std::size_t kWidth = Batch::size;

[[maybe_unused]] Batch load(const float* p) {
  return Batch::load_aligned(p);
}

// -x as C++ defines it: flip the sign bit. xsimd 8.1 negates an AVX-512 batch as 0 - x, which
// turns -0 into +0 and so would differ from the scalar reference.
[[maybe_unused]] Batch negate(Batch x) {
  return xsimd::bitwise_xor(x, Batch(-0.0f));
}

// a / b, correctly rounded as IEEE 754 and the scalar reference's division are. Kernels call
// this, never operator/: on aarch64 xsimd 8.1 defines float division only for its 32-bit `neon`
// arch, as a reciprocal estimate refined by two Newton-Raphson steps (off by several ulp, and
// wrong for huge divisors and for specials), and `neon64` inherits it. Elsewhere xsimd's
// operator/ is the hardware's division (divps).
[[maybe_unused]] Batch div(Batch a, Batch b) {
#if defined(__aarch64__)
  return vdivq_f32(a, b);
#else
  return a / b;
#endif
}

// The correctly rounded square root (as std::sqrt). Kernels call this, never xsimd::sqrt: on
// aarch64 xsimd 8.1's float sqrt is a reciprocal square root estimate with Newton-Raphson steps
// (inexact, NaN for +Inf, +0 for -0), for the same reason as div. Elsewhere xsimd::sqrt is the
// hardware's (sqrtps).
[[maybe_unused]] Batch sqrt(Batch x) {
#if defined(__aarch64__)
  return vsqrtq_f32(x);
#else
  return xsimd::sqrt(x);
#endif
}

// Stores to an aligned address without first reading the line (a non-temporal store): for an
// output stream far larger than the caches, where the read for ownership is a quarter more
// traffic. Each build's flags pick its instruction; a kernel using it ends with stream_fence().
[[maybe_unused]] void store_stream(float* p, Batch x) {
#if defined(__AVX512F__)
  _mm512_stream_ps(p, x);
#elif defined(__AVX__)
  _mm256_stream_ps(p, x);
#elif defined(__SSE2__)
  _mm_stream_ps(p, x);
#else
  x.store_aligned(p);
#endif
}

// Orders the non-temporal stores before anything this thread does next (the join that lets
// another thread read them).
[[maybe_unused]] void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

// torch.maximum: NaN if either operand is NaN (the hardware max returns its second operand).
// xsimd::isnan, not a != a: xsimd 8.1 compares != as ordered on AVX and AVX-512 (NaN != NaN is
// false there).
[[maybe_unused]] Batch nan_max(Batch a, Batch b) {
  const Batch larger = xsimd::select(a > b, a, b);
  return xsimd::select(xsimd::isnan(a), a, larger);
}

// x, or a zero of x's sign where |x| < floor, for floor FLT_MIN (flush subnormals) or 0 (keep
// everything): the only two floors the library uses. The state stores of every step go through
// it, so on AVX-512 it is two instructions, a test for a zero exponent and a masked AND that keeps
// only the sign, instead of abs, compare, AND and blend.
[[maybe_unused]] Batch flush_below(Batch x, Batch floor) {
#if defined(__AVX512F__)
  const __m512i bits = _mm512_castps_si512(x);
  const __mmask16 on =
      _mm512_test_epi32_mask(_mm512_castps_si512(floor), _mm512_castps_si512(floor));
  const __mmask16 tiny = _mm512_mask_testn_epi32_mask(on, bits, _mm512_set1_epi32(0x7f800000));
  return _mm512_castsi512_ps(
      _mm512_mask_and_epi32(bits, tiny, bits, _mm512_set1_epi32(std::int32_t{-0x7fffffff - 1})));
#else
  return xsimd::select(xsimd::abs(x) < floor, xsimd::bitwise_and(x, Batch(-0.0f)), x);
#endif
}

}  // namespace
}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
