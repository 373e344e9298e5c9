#pragma once
// The element formats an array of an arena or an engine's buffer may be stored in.
#include <cstddef>
#include <cstdint>

namespace simdoptim::detail {

enum class Storage : std::uint8_t { f32, bf16, f16 };

constexpr std::size_t storage_size(Storage s) noexcept {
  return s == Storage::f32 ? 4 : 2;
}

}  // namespace simdoptim::detail
