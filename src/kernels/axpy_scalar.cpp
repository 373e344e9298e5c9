// y += a * x, scalar reference.
#include "kernels/axpy_kernel.hpp"

namespace simdoptim::detail::scalar {

void axpy(const AxpyArgs& args, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t i = begin; i < end; ++i) args.y[i] = args.y[i] + args.a * args.x[i];
}

}  // namespace simdoptim::detail::scalar
