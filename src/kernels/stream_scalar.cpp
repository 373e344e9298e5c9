// Memory-only reference kernels, scalar build.
#include "kernels/stream_kernel.hpp"

namespace simdoptim::detail::scalar {

void adam_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    const float g = s.b[i];
    s.c[i] += g;
    s.d[i] += g;
    s.a[i] += s.c[i];
  }
}

void sgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    s.c[i] += s.b[i];
    s.a[i] += s.c[i];
  }
}

void asgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    s.a[i] += s.b[i];
    s.c[i] = s.a[i];
  }
}

void triad(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) s.a[i] = s.b[i] + s.scalar * s.c[i];
}

}  // namespace simdoptim::detail::scalar
