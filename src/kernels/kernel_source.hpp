#pragma once
// Writes a kernel once for every build. A kernel source (src/kernels/<name>.cpp) is compiled
// into the library, where its loops run at V = float and define the scalar reference (namespace
// scalar), and once per instruction set (SIMDOPTIM_ISA_NS defined, see kernels/simd.hpp), where
// they run at that set's Batch and define its kernel. Loops are templates over V that use the
// loads and stores here and the operations of kernels/ops.hpp, so every build performs the same
// operations in the same order, lane by lane.
#include <cstddef>
#include <type_traits>

#include "kernels/bool_dispatch.hpp"
#include "kernels/kernel.hpp"
#include "kernels/ops.hpp"
#if defined(SIMDOPTIM_ISA_NS)
#include "kernels/simd.hpp"
#endif

namespace simdoptim::detail {
// Internal linkage: each instruction set's build keeps its own copies (no weak symbols).
namespace {

// The value a kernel's loops run at in this build.
#if defined(SIMDOPTIM_ISA_NS)
using KernelValue = SIMDOPTIM_ISA_NS::Batch;
#else
using KernelValue = float;
#endif

// The lanes of V: one float, or a batch.
template <class V>
constexpr std::size_t lanes() noexcept {
  if constexpr (std::is_same_v<V, float>)
    return 1;
  else
    return V::size;
}

// Loads and stores are aligned: every call's range starts on a tensor boundary (64 bytes) and
// covers whole padded tensors.
template <class V>
V vload(const float* p) noexcept {
  if constexpr (std::is_same_v<V, float>)
    return *p;
  else
    return V::load_aligned(p);
}

// Loads and stores at any alignment.
template <class V>
V vload_unaligned(const float* p) noexcept {
  if constexpr (std::is_same_v<V, float>)
    return *p;
  else
    return V::load_unaligned(p);
}

template <class V>
void vstore_unaligned(float* p, V v) noexcept {
  if constexpr (std::is_same_v<V, float>)
    *p = v;
  else
    v.store_unaligned(p);
}

// Lanes [i, i + width) of an array that holds `count` elements and may lie anywhere (an engine's
// gradient buffer: not 64-byte aligned, no padding after its last element). Lanes at and past
// `count` read as zero, as the arena's padding does, so a kernel computes the same bits from it
// as from the arena. An arena passes count = SIZE_MAX and never takes the staged branch.
inline constexpr std::size_t kPageFloats = 4096 / sizeof(float);
inline constexpr std::size_t kPrefetchFloats = 16 * kPageFloats;

template <class V>
V load_until(const float* p, std::size_t i, std::size_t count) noexcept {
  constexpr std::size_t w = lanes<V>();
  if (i + w <= count) {
    if constexpr (std::is_same_v<V, float>) {
      return p[i];
    } else {
      // An engine's buffer usually has 4 KiB pages, where the hardware prefetchers stop at
      // every page boundary; a software prefetch one page ahead keeps the stream going.
      if (i % kPageFloats == 0) __builtin_prefetch(p + i + kPrefetchFloats);
      return V::load_unaligned(p + i);
    }
  }
  alignas(64) float staged[w] = {};
  for (std::size_t k = 0; k < w && i + k < count; ++k) staged[k] = p[i + k];
  return vload<V>(staged);
}

template <class V>
void vstore(float* p, V v) noexcept {
  if constexpr (std::is_same_v<V, float>)
    *p = v;
  else
    v.store_aligned(p);
}

// A store that bypasses the caches (kernels/simd.hpp's store_stream) for a batch; a plain store
// for float, which needs no fence.
[[maybe_unused]] void store_stream(float* p, float v) noexcept {
  *p = v;
}
#if defined(SIMDOPTIM_ISA_NS)
[[maybe_unused]] void store_stream(float* p, KernelValue v) noexcept {
  SIMDOPTIM_ISA_NS::store_stream(p, v);
}
#endif

// Ends a kernel that used store_stream.
template <class V>
void stream_fence() noexcept {
#if defined(SIMDOPTIM_ISA_NS)
  if constexpr (!std::is_same_v<V, float>) SIMDOPTIM_ISA_NS::stream_fence();
#endif
}

}  // namespace
}  // namespace simdoptim::detail

// The namespace this build's entry points go in.
#if defined(SIMDOPTIM_ISA_NS)
#define SIMDOPTIM_KERNEL_BUILD SIMDOPTIM_ISA_NS
#else
#define SIMDOPTIM_KERNEL_BUILD scalar
#endif

// Defines kernel `name` (declared with SIMDOPTIM_DECLARE_KERNEL(name, Args)) for this build as
// run<KernelValue>(args, begin, end); `run` is a function template of the kernel source, named
// differently from the kernel. Use at global scope.
#define SIMDOPTIM_DEFINE_KERNEL(name, Args, run)                             \
  namespace simdoptim::detail::SIMDOPTIM_KERNEL_BUILD {                      \
  void name(const Args& args, std::size_t begin, std::size_t end) noexcept { \
    run<KernelValue>(args, begin, end);                                      \
  }                                                                          \
  }
