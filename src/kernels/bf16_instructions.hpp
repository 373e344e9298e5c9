#pragma once
// Whether the AVX-512 kernels narrow bf16 arrays with the AVX-512 BF16 and BW extensions
// (kernels/simd_half.hpp: store_bf16_array), which give the scalar reference's bits. On where the CPU has both, unless SIMDOPTIM_AVX512_BF16=0 was set when the library loaded.

namespace simdoptim::detail {

bool bf16_instructions_on() noexcept;

// Turns the instruction off or back on (never on without the CPU's support), so that tests and
// benchmarks can compare both paths; returns the previous setting.
bool set_bf16_instructions(bool on) noexcept;

}  // namespace simdoptim::detail
