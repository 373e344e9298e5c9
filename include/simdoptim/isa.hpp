#pragma once
/// Instruction sets the update kernels are compiled for, and run-time selection among them.
#include <string_view>
#include <vector>

namespace simdoptim {
inline namespace v1 {

/// A kernel build. `scalar` is the plain C++ reference every SIMD build equals bit for bit.
enum class Isa { scalar, sse2, avx2, avx512, neon };

/// "scalar", "sse2", "avx2" (AVX2 with FMA3), "avx512" (AVX-512F) or "neon".
const char* isa_name(Isa isa) noexcept;

/// Parses a name of isa_name(). Throws std::invalid_argument listing the valid names.
Isa parse_isa(std::string_view name);

/// True when this binary has a build for `isa` and this CPU and OS can run it.
bool isa_supported(Isa isa) noexcept;

/// Every supported instruction set, scalar first, best last.
std::vector<Isa> supported_isas();

/// The best supported instruction set.
Isa best_isa() noexcept;

/// The instruction set new optimizers use: SIMDOPTIM_ISA when set, else best_isa().
/// Throws std::invalid_argument when SIMDOPTIM_ISA names an unknown or unsupported set.
Isa default_isa();

/// True when the avx512 kernels narrow bf16 arrays with the AVX-512 BF16 and BW extensions:
/// the CPU has them and SIMDOPTIM_AVX512_BF16 was not 0 when the library loaded. The results are
/// the same bits either way (docs/precision.md).
bool avx512_bf16_conversions() noexcept;

}  // namespace v1
}  // namespace simdoptim
