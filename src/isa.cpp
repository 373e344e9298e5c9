#include "simdoptim/isa.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "kernels/bf16_instructions.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

constexpr Isa kAll[] = {Isa::scalar, Isa::sse2, Isa::avx2, Isa::avx512, Isa::neon};

}  // namespace

const char* isa_name(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar:
      return "scalar";
    case Isa::sse2:
      return "sse2";
    case Isa::avx2:
      return "avx2";
    case Isa::avx512:
      return "avx512";
    case Isa::neon:
      return "neon";
  }
  return "?";
}

Isa parse_isa(std::string_view name) {
  for (Isa isa : kAll)
    if (name == isa_name(isa)) return isa;
  throw std::invalid_argument("unknown instruction set '" + std::string(name) +
                              "' (expected scalar, sse2, avx2, avx512 or neon)");
}

bool isa_supported(Isa isa) noexcept {
  switch (isa) {
    case Isa::scalar:
      return true;
#if defined(__x86_64__)
    // __builtin_cpu_supports also checks that the OS saves the wider registers.
    case Isa::sse2:
      return __builtin_cpu_supports("sse2");
    case Isa::avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::avx512:
      return __builtin_cpu_supports("avx512f");
#endif
#if defined(__aarch64__)
    case Isa::neon:
      return true;  // Advanced SIMD is mandatory on aarch64.
#endif
    default:
      return false;
  }
}

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : kAll)
    if (isa_supported(isa)) out.push_back(isa);
  return out;
}

Isa best_isa() noexcept {
  Isa best = Isa::scalar;
  for (Isa isa : kAll)
    if (isa_supported(isa)) best = isa;
  return best;
}

Isa default_isa() {
  const char* env = std::getenv("SIMDOPTIM_ISA");
  if (env == nullptr || *env == '\0') return best_isa();
  const Isa isa = parse_isa(env);
  if (!isa_supported(isa))
    throw std::invalid_argument(std::string("SIMDOPTIM_ISA=") + env +
                                " is not supported by this CPU or build");
  return isa;
}

bool avx512_bf16_conversions() noexcept {
  return detail::bf16_instructions_on();
}

}  // namespace v1
}  // namespace simdoptim
