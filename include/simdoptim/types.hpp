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

/// Element type of an arena buffer. Only fp32 exists today; the arena records a dtype per
/// buffer so that bf16/fp16 parameters with fp32 master state can be added without a rewrite.
enum class DType : std::uint8_t { f32 };

/// "f32" for DType::f32.
const char* dtype_name(DType dtype) noexcept;
/// Bytes per element of `dtype`.
std::size_t dtype_size(DType dtype) noexcept;

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

/// A view of one tensor inside an arena: name, shape and contiguous fp32 data. Views stay valid
/// for the lifetime of the optimizer (adding param groups never moves an arena).
struct TensorView {
  std::string_view name;
  std::span<const std::int64_t> shape;
  std::span<float> data;
  DType dtype = DType::f32;
};

}  // namespace v1
}  // namespace simdoptim
