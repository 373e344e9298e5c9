#pragma once
/// Library version.
#define SIMDOPTIM_VERSION_MAJOR 0
#define SIMDOPTIM_VERSION_MINOR 1
#define SIMDOPTIM_VERSION_PATCH 0

namespace simdoptim {
inline namespace v1 {
/// "0.1.0".
const char* version() noexcept;
}  // namespace v1
}  // namespace simdoptim
