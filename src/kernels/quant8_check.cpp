// The 8-bit block quantizer alone, written once over V (kernels/kernel_source.hpp): the scalar
// build and every instruction set's.
#include <algorithm>

#include "kernels/kernel_source.hpp"
#include "kernels/quant8_check_kernel.hpp"
#include "kernels/storage_q8.hpp"

namespace simdoptim::detail {
namespace {

// Blocks start at multiples of kQuantBlock; the last may be shorter.
template <class V>
void quant8_check_loop(const Quant8CheckArgs& a, std::size_t begin, std::size_t end) noexcept {
  for (std::size_t b = begin; b < end; b += kQuantBlock) {
    const std::size_t n = std::min(kQuantBlock, end - b);
    if (a.decode)
      dequantize_block<V>(a.codes + b, a.scales[b / kQuantBlock], a.values + b, n, a.non_negative);
    else
      a.scales[b / kQuantBlock] = quantize_block<V>(a.values + b, a.codes + b, n, a.non_negative);
  }
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(quant8_check, Quant8CheckArgs, quant8_check_loop)
