#include "simdoptim/types.hpp"

#include <cctype>
#include <limits>
#include <stdexcept>

namespace simdoptim {
inline namespace v1 {

const char* dtype_name(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return "f32";
    case DType::bf16:
      return "bf16";
    case DType::f16:
      return "f16";
    case DType::q8:
      return "q8";
  }
  return "?";
}

std::size_t dtype_size(DType dtype) noexcept {
  switch (dtype) {
    case DType::f32:
      return 4;
    case DType::bf16:
    case DType::f16:
      return 2;
    case DType::q8:
      return 1;
  }
  return 0;
}

std::vector<std::string> dtype_names() {
  return {"f32", "bf16", "f16", "q8"};
}

DType parse_dtype(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "f32" || lower == "fp32" || lower == "float32") return DType::f32;
  if (lower == "bf16" || lower == "bfloat16") return DType::bf16;
  if (lower == "f16" || lower == "fp16" || lower == "float16") return DType::f16;
  if (lower == "q8") return DType::q8;
  throw std::invalid_argument("unknown dtype '" + std::string(name) +
                              "' (valid: f32, bf16, f16, q8)");
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
