#pragma once
/// Basic vocabulary types shared by the whole public API.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace simdoptim {
inline namespace v1 {

/// Element type of an arena buffer: IEEE fp32, bfloat16 (fp32's top half) or IEEE fp16
/// (docs/precision.md: conversions round to nearest-even, keep subnormals, quiet NaNs); for
/// optimizer state also q8, 8-bit codes with one fp32 scale per block of 256 values.
enum class DType : std::uint8_t { f32, bf16, f16, q8 };

/// "f32", "bf16", "f16", "q8".
const char* dtype_name(DType dtype) noexcept;
/// Bytes per element of `dtype` (q8: 1, its scales not counted).
std::size_t dtype_size(DType dtype) noexcept;
/// Every dtype_name(), in DType order.
std::vector<std::string> dtype_names();
/// The DType named `name` (case-insensitive; also "fp32", "bfloat16", "fp16"). Throws
/// std::invalid_argument listing the names.
DType parse_dtype(std::string_view name);

/// A tensor shape, as torch.Size.
using Shape = std::vector<std::int64_t>;

/// Number of elements of `shape` (1 for a 0-d tensor). Throws std::invalid_argument on a
/// negative dimension or overflow.
std::size_t numel_of(const Shape& shape);

/// "[2, 3]" for {2, 3}.
std::string shape_to_string(const Shape& shape);

/// A parameter to register in a param group: its name, shape and initial values. `init` is
/// either empty (the parameter starts at zero) or holds exactly numel(shape) values.
struct ParamSpec {
  std::string name;
  Shape shape;
  std::vector<float> init = {};
};

/// A view of one tensor inside an arena: name, shape and contiguous data, fp32 in `data` or, for
/// a bf16 or fp16 array, the elements' bits in `data16`, or for q8 state the codes in `data8`
/// and one scale per 256 elements in `scales` (the other spans are empty). Views stay valid for
/// the lifetime of the optimizer (adding param groups never moves an arena).
struct TensorView {
  std::string_view name;
  std::span<const std::int64_t> shape;
  std::span<float> data;
  DType dtype = DType::f32;
  std::span<std::uint16_t> data16 = {};
  std::span<std::uint8_t> data8 = {};
  std::span<float> scales = {};
  /// q8 only: the array holds non-negative values (a second moment), companded by sqrt.
  bool non_negative = false;
};

}  // namespace v1
}  // namespace simdoptim
