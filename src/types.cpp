#include "simdoptim/types.hpp"

#include <limits>
#include <stdexcept>

namespace simdoptim {
inline namespace v1 {

const char* dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return "f32";
  }
  return "?";
}

std::size_t dtype_size(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return 4;
  }
  return 0;
}

std::size_t numel_of(const Shape& shape) {
  std::size_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0)
      throw std::invalid_argument("shape " + shape_to_string(shape) + " has a negative dimension");
    const auto ud = static_cast<std::size_t>(d);
    if (ud != 0 && n > std::numeric_limits<std::size_t>::max() / 8 / ud)
      throw std::invalid_argument("shape " + shape_to_string(shape) + " is too large");
    n *= ud;
  }
  return n;
}

std::string shape_to_string(const Shape& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace v1
}  // namespace simdoptim
