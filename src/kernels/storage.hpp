#pragma once
// Loads and stores of an array by its storage format, for a kernel written once over V
// (kernels/kernel_source.hpp): fp32 as it is, bf16 and fp16 converted to and from float by the
// scalar reference (kernels/half.hpp) or this build's batch conversion (kernels/simd_half.hpp).
// The format is a template argument, so loops carry no branch on it.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "kernels/bf16_instructions.hpp"
#include "kernels/half.hpp"
#include "kernels/kernel_source.hpp"
#include "kernels/storage_format.hpp"
#if defined(SIMDOPTIM_ISA_NS)
#include "kernels/simd_half.hpp"
#endif

namespace simdoptim::detail {
namespace {

// Elements [i, i + lanes<V>()) of an array of format S, as floats. Aligned for fp32.
template <class V, Storage S>
V load_as(const void* base, std::size_t i) noexcept {
  if constexpr (S == Storage::f32) {
    return vload<V>(static_cast<const float*>(base) + i);
  } else {
    const std::uint16_t* p = static_cast<const std::uint16_t*>(base) + i;
    if constexpr (std::is_same_v<V, float>) {
      return S == Storage::bf16 ? f32_from_bf16(*p) : f32_from_f16(*p);
    } else {
#if defined(SIMDOPTIM_ISA_NS)
      return S == Storage::bf16 ? SIMDOPTIM_ISA_NS::load_bf16(p) : SIMDOPTIM_ISA_NS::load_f16(p);
#endif
    }
  }
}

// Stores v as elements [i, i + lanes<V>()) of an array of format S, rounded to nearest-even.
template <Storage S, class V>
void store_as(void* base, std::size_t i, V v) noexcept {
  if constexpr (S == Storage::f32) {
    vstore(static_cast<float*>(base) + i, v);
  } else {
    std::uint16_t* p = static_cast<std::uint16_t*>(base) + i;
    if constexpr (std::is_same_v<V, float>) {
      *p = S == Storage::bf16 ? bf16_from_f32(v) : f16_from_f32(v);
    } else {
#if defined(SIMDOPTIM_ISA_NS)
      if constexpr (S == Storage::bf16)
        SIMDOPTIM_ISA_NS::store_bf16(p, v);
      else
        SIMDOPTIM_ISA_NS::store_f16(p, v);
#endif
    }
  }
}

// Elements [0, n) of an array of format S (n a multiple of lanes<V>()) as floats in dst.
// (Widening with AVX-512 BW's vpermw instead was no faster.)
template <class V, Storage S>
void load_array_as(float* dst, const std::uint16_t* src, std::size_t n) noexcept {
  for (std::size_t j = 0; j + lanes<V>() <= n; j += lanes<V>())
    vstore(dst + j, load_as<V, S>(src, j));
}

// n floats (a multiple of lanes<V>()) stored as elements [0, n) of an array of format S.
template <class V, Storage S>
void store_array_as(std::uint16_t* dst, const float* src, std::size_t n) noexcept {
#if defined(__AVX512F__)
  if constexpr (S == Storage::bf16 && !std::is_same_v<V, float>)
    if (bf16_instructions_on()) return SIMDOPTIM_ISA_NS::store_bf16_array(dst, src, n);
#endif
  for (std::size_t j = 0; j + lanes<V>() <= n; j += lanes<V>())
    store_as<S>(dst, j, vload<V>(src + j));
}

// For the loops that convert bf16 in registers, which only AVX-512 builds run, only where the CPU
// has AVX-512 BF16 (bf16_instructions_on()); every other build has the plain conversions here.
// store_as<Storage::bf16> by the instruction; `flushed`: of v with its subnormals flushed to
// zeros of their sign.
template <bool Flushed = false, class V>
void store_bf16_by_instruction(std::uint16_t* base, std::size_t i, V v) noexcept {
#if defined(__AVX512F__)
  if constexpr (!std::is_same_v<V, float>) {
    if constexpr (Flushed) return SIMDOPTIM_ISA_NS::store_bf16_flushed(base + i, v);
    return SIMDOPTIM_ISA_NS::store_bf16_by_instruction(base + i, v);
  }
#endif
  store_as<Storage::bf16>(base, i,
                          Flushed ? ops::flush_below(v, V(std::numeric_limits<float>::min())) : v);
}
// load_as<V, Storage::bf16> whose signalling NaNs stay signalling (simd_half.hpp says when that
// gives the same results).
template <class V>
V load_bf16_signalling(const std::uint16_t* base, std::size_t i) noexcept {
#if defined(__AVX512F__)
  if constexpr (!std::is_same_v<V, float>) return SIMDOPTIM_ISA_NS::load_bf16_signalling(base + i);
#endif
  return load_as<V, Storage::bf16>(base, i);
}

// The last, partial batch of load16_until, out of the loop's way.
template <class V, Storage S>
[[gnu::noinline, gnu::cold]] V load16_tail(const std::uint16_t* p, std::size_t i,
                                           std::size_t count) noexcept {
  alignas(64) std::uint16_t staged[lanes<V>()] = {};
  for (std::size_t k = 0; k < lanes<V>() && i + k < count; ++k) staged[k] = p[i + k];
  return load_as<V, S>(staged, 0);
}

// load_until for a 16-bit array of format S: lanes at and past `count` read as zero (zero bits
// are zero in both formats). `Signalling`: bf16 by load_bf16_signalling.
template <class V, Storage S, bool Signalling = false>
V load16_until(const std::uint16_t* p, std::size_t i, std::size_t count) noexcept {
  if (i + lanes<V>() > count) [[unlikely]]
    return load16_tail<V, S>(p, i, count);
  // As load_until: one page ahead of an engine's buffer, in 16-bit elements.
  if constexpr (!std::is_same_v<V, float>)
    if (i % (2 * kPageFloats) == 0) __builtin_prefetch(p + i + 2 * kPrefetchFloats);
  if constexpr (Signalling) return load_bf16_signalling<V>(p, i);
  return load_as<V, S>(p, i);
}

// v rounded to format S and widened back (to nearest-even).
template <Storage S, class V>
V round_as(V v) noexcept {
  if constexpr (S == Storage::f32) {
    return v;
  } else if constexpr (std::is_same_v<V, float>) {
    return S == Storage::bf16 ? f32_from_bf16(bf16_from_f32(v)) : f32_from_f16(f16_from_f32(v));
  } else {
#if defined(SIMDOPTIM_ISA_NS)
    if constexpr (S == Storage::bf16)
      return SIMDOPTIM_ISA_NS::round_bf16(v);
    else
      return SIMDOPTIM_ISA_NS::round_f16(v);
#endif
  }
}

// x rounded to format s and widened back.
[[maybe_unused]] float round_to(Storage s, float x) noexcept {
  if (s == Storage::bf16) return round_as<Storage::bf16>(x);
  return s == Storage::f16 ? round_as<Storage::f16>(x) : x;
}

// Stores v as bf16 elements [i, i + lanes<V>()) by stochastic rounding, the random bits of
// element i being rounding_bits(key, i): the same bits in every build and on any split.
template <class V>
void store_bf16_stochastic(std::uint16_t* base, std::size_t i, V v, std::uint32_t key) noexcept {
  if constexpr (std::is_same_v<V, float>) {
    base[i] = bf16_from_f32_stochastic(v, rounding_bits(key, i));
  } else {
#if defined(SIMDOPTIM_ISA_NS)
    SIMDOPTIM_ISA_NS::narrow_u16(base + i, SIMDOPTIM_ISA_NS::bf16_bits_stochastic(
                                               v, SIMDOPTIM_ISA_NS::rounding_bits(key, i)));
#endif
  }
}

}  // namespace
}  // namespace simdoptim::detail
