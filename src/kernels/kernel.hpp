#pragma once
// How kernels are declared and picked. Each optimizer has an argument block and one entry point
// per build: scalar::name (the reference), sse2/avx2/avx512::name on x86-64, neon::name on
// aarch64, each compiled from the same source in its own namespace (kernels/kernel_source.hpp).
// SIMDOPTIM_DECLARE_KERNEL(name, Args) declares them all and `name_kernel(isa)`, which picks one.
#include <cstddef>

#include "simdoptim/isa.hpp"

namespace simdoptim::detail {

// Every kernel updates elements [begin, end) of its arrays; begin and end are multiples of
// ParamGroup::kTensorAlign and the arrays are 64-byte aligned, so no build needs a scalar tail.
template <class Args>
using KernelFn = void (*)(const Args& args, std::size_t begin, std::size_t end) noexcept;

}  // namespace simdoptim::detail

#define SIMDOPTIM_KERNEL_SIGNATURE(name, Args) \
  void name(const Args& args, std::size_t begin, std::size_t end) noexcept;

#if defined(__x86_64__)
#define SIMDOPTIM_DECLARE_SIMD_KERNELS(name, Args) \
  namespace sse2 {                                 \
  SIMDOPTIM_KERNEL_SIGNATURE(name, Args)           \
  }                                                \
  namespace avx2 {                                 \
  SIMDOPTIM_KERNEL_SIGNATURE(name, Args)           \
  }                                                \
  namespace avx512 {                               \
  SIMDOPTIM_KERNEL_SIGNATURE(name, Args)           \
  }
#define SIMDOPTIM_SIMD_KERNEL_CASES(name) \
  case Isa::sse2:                         \
    return sse2::name;                    \
  case Isa::avx2:                         \
    return avx2::name;                    \
  case Isa::avx512:                       \
    return avx512::name;
#elif defined(__aarch64__)
#define SIMDOPTIM_DECLARE_SIMD_KERNELS(name, Args) \
  namespace neon {                                 \
  SIMDOPTIM_KERNEL_SIGNATURE(name, Args)           \
  }
#define SIMDOPTIM_SIMD_KERNEL_CASES(name) \
  case Isa::neon:                         \
    return neon::name;
#else
#define SIMDOPTIM_DECLARE_SIMD_KERNELS(name, Args)
#define SIMDOPTIM_SIMD_KERNEL_CASES(name)
#endif

// Inside namespace simdoptim::detail. The caller has checked that `isa` is supported.
#define SIMDOPTIM_DECLARE_KERNEL(name, Args)              \
  namespace scalar {                                      \
  SIMDOPTIM_KERNEL_SIGNATURE(name, Args)                  \
  }                                                       \
  SIMDOPTIM_DECLARE_SIMD_KERNELS(name, Args)              \
  inline KernelFn<Args> name##_kernel(Isa isa) noexcept { \
    switch (isa) {                                        \
      SIMDOPTIM_SIMD_KERNEL_CASES(name)                   \
      default:                                            \
        return scalar::name;                              \
    }                                                     \
  }
