// y += a * x, one build per instruction set (see kernels/simd.hpp).
#include "kernels/axpy_kernel.hpp"
#include "kernels/simd.hpp"

namespace simdoptim::detail::SIMDOPTIM_ISA_NS {

void axpy(const AxpyArgs& args, std::size_t begin, std::size_t end) noexcept {
  const Batch a(args.a);
  for (std::size_t i = begin; i + kWidth <= end; i += kWidth)
    (load(args.y + i) + a * load(args.x + i)).store_aligned(args.y + i);
}

}  // namespace simdoptim::detail::SIMDOPTIM_ISA_NS
