#include "kernels/bf16_instructions.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace simdoptim::detail {
namespace {

bool cpu_has_bf16_instructions() noexcept {
#if defined(__x86_64__)
  // The AVX-512 kernels run only where avx512f (and the OS's zmm state) is there too.
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512bf16");
#else
  return false;
#endif
}

std::atomic<bool>& setting() noexcept {
  static std::atomic<bool> on = [] {
    const char* env = std::getenv("SIMDOPTIM_AVX512_BF16");
    return cpu_has_bf16_instructions() && !(env != nullptr && std::strcmp(env, "0") == 0);
  }();
  return on;
}

}  // namespace

bool bf16_instructions_on() noexcept {
  return setting().load(std::memory_order_relaxed);
}

bool set_bf16_instructions(bool on) noexcept {
  return setting().exchange(on && cpu_has_bf16_instructions(), std::memory_order_relaxed);
}

}  // namespace simdoptim::detail
