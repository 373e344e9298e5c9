// Memory-only reference kernels of issue 8, scalar build.
#include "kernels/stream_more_kernel.hpp"

namespace simdoptim::detail::scalar {

void asgd_pattern(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) {
    s.a[i] += s.b[i];
    s.c[i] = s.a[i];
  }
}

}  // namespace simdoptim::detail::scalar
