// Memory-only reference kernels of issue 8, one build per instruction set (see kernels/simd.hpp).
#include "kernels/simd.hpp"
#include "kernels/stream_more_kernel.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {

void asgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch p = load(s.a + i) + load(s.b + i);
    p.store_aligned(s.a + i);
    p.store_aligned(s.c + i);
  }
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
