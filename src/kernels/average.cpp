// The averaging pass, written once over V (kernels/kernel_source.hpp): the scalar reference and
// every instruction set's kernel.
#include "kernels/average_element.hpp"
#include "kernels/average_kernel.hpp"

namespace simdoptim::detail {
namespace {

template <AverageKind A, class V>
void average_kind_loop(const AverageArgs& a, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V w0(a.w0), w1(a.w1);
  for (std::size_t i = begin; i + w <= end; i += w)
    average_element<A>(a.param + i, a.averaged + i, w0, w1);
}

template <class V>
void average_loop(const AverageArgs& a, std::size_t begin, std::size_t end) noexcept {
  switch (static_cast<AverageKind>(a.kind)) {
    case AverageKind::copy:
      return average_kind_loop<AverageKind::copy, V>(a, begin, end);
    case AverageKind::ema:
      return average_kind_loop<AverageKind::ema, V>(a, begin, end);
    case AverageKind::swa:
      return average_kind_loop<AverageKind::swa, V>(a, begin, end);
    case AverageKind::lookahead:
      return average_kind_loop<AverageKind::lookahead, V>(a, begin, end);
    case AverageKind::none:
      return;
  }
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(average, AverageArgs, average_loop)
