#include "simdoptim/version.hpp"

namespace simdoptim {
inline namespace v1 {

const char* version() noexcept {
  return "0.1.0";
}

}  // namespace v1
}  // namespace simdoptim
