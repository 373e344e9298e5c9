// A checkpoint's state arrays in any state dtype, and the conversions a load applies when the
// checkpoint's dtype is not the optimizer's (docs/checkpoint_format.md). The scalar references
// define them: to_bits16 (nearest-even) and the block quantizer of kernels/quant8.hpp.
#include <algorithm>
#include <stdexcept>

#include "kernels/quant8.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/dtype_convert.hpp"

namespace simdoptim {
inline namespace v1 {

std::size_t element_count(const StateArray& array) noexcept {
  switch (array.dtype) {
    case DType::f32:
      return array.data.size();
    case DType::bf16:
    case DType::f16:
      return array.bits16.size();
    case DType::q8:
      return array.codes.size();
  }
  return 0;
}

std::vector<float> values(const StateArray& array) {
  switch (array.dtype) {
    case DType::f32:
      return array.data;
    case DType::bf16:
    case DType::f16: {
      std::vector<float> out(array.bits16.size());
      for (std::size_t k = 0; k < out.size(); ++k)
        out[k] = from_bits16(array.dtype, array.bits16[k]);
      return out;
    }
    case DType::q8: {
      const std::size_t n = array.codes.size();
      if (array.scales.size() != (n + detail::kQuantBlock - 1) / detail::kQuantBlock)
        throw std::invalid_argument("state '" + array.name +
                                    "': " + std::to_string(array.scales.size()) + " scales for " +
                                    std::to_string(n) + " codes");
      std::vector<float> out(n);
      for (std::size_t b = 0; b < n; b += detail::kQuantBlock)
        detail::quant8_decode_block(array.codes.data() + b, array.scales[b / detail::kQuantBlock],
                                    out.data() + b, std::min(detail::kQuantBlock, n - b),
                                    array.non_negative);
      return out;
    }
  }
  return {};
}

StateArray convert(const StateArray& array, DType dtype, bool non_negative) {
  if (array.dtype == dtype && (dtype != DType::q8 || array.non_negative == non_negative))
    return array;
  StateArray out{array.name, dtype, {}};
  const std::vector<float> from = values(array);
  switch (dtype) {
    case DType::f32:
      out.data = from;
      break;
    case DType::bf16:
    case DType::f16:
      out.bits16.resize(from.size());
      for (std::size_t k = 0; k < from.size(); ++k) out.bits16[k] = to_bits16(dtype, from[k]);
      break;
    case DType::q8: {
      const std::size_t n = from.size();
      out.non_negative = non_negative;
      out.codes.resize(n);
      out.scales.resize((n + detail::kQuantBlock - 1) / detail::kQuantBlock);
      for (std::size_t b = 0; b < n; b += detail::kQuantBlock)
        out.scales[b / detail::kQuantBlock] =
            detail::quant8_encode_block(from.data() + b, out.codes.data() + b,
                                        std::min(detail::kQuantBlock, n - b), non_negative);
      break;
    }
    default:
      throw std::invalid_argument(std::string("a state cannot be stored as ") + dtype_name(dtype));
  }
  return out;
}

}  // namespace v1
}  // namespace simdoptim
