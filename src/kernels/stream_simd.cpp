// Memory-only reference kernels, one build per instruction set (see kernels/simd.hpp).
#include "kernels/simd.hpp"
#include "kernels/stream_kernel.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {

void adam_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch g = load(s.b + i);
    const Batch m = load(s.c + i) + g;
    const Batch v = load(s.d + i) + g;
    m.store_aligned(s.c + i);
    v.store_aligned(s.d + i);
    (load(s.a + i) + m).store_aligned(s.a + i);
  }
}

void sgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch buf = load(s.c + i) + load(s.b + i);
    buf.store_aligned(s.c + i);
    (load(s.a + i) + buf).store_aligned(s.a + i);
  }
}

void asgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth) {
    const Batch p = load(s.a + i) + load(s.b + i);
    p.store_aligned(s.a + i);
    p.store_aligned(s.c + i);
  }
}

void triad(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  const Batch scalar(s.scalar);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth)
    (load(s.b + i) + scalar * load(s.c + i)).store_aligned(s.a + i);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
