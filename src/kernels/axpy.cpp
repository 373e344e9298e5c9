// y += a * x, written once over V (kernels/kernel_source.hpp): the scalar reference and every
// instruction set's kernel.
#include "kernels/axpy_kernel.hpp"
#include "kernels/kernel_source.hpp"

namespace simdoptim::detail {
namespace {

template <class V>
void axpy_loop(const AxpyArgs& args, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V a(args.a);
  for (std::size_t i = begin; i + w <= end; i += w)
    vstore(args.y + i, vload<V>(args.y + i) + a * vload<V>(args.x + i));
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(axpy, AxpyArgs, axpy_loop)
