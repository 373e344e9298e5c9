#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, as iSCSI, RFC 3720 appendix B.4), the
// checksum of every checkpoint section. Uses the SSE4.2 crc32 instruction when the CPU has it
// (checked at run time), else a slicing-by-8 table; both give the same value.
#include <cstddef>
#include <cstdint>

namespace simdoptim::detail {

// Continues a CRC: crc32c(crc32c(0, a), b) == crc32c(0, a followed by b).
std::uint32_t crc32c(std::uint32_t crc, const void* data, std::size_t size) noexcept;
// The portable table version (tests compare the two).
std::uint32_t crc32c_table(std::uint32_t crc, const void* data, std::size_t size) noexcept;
// Whether crc32c() uses the SSE4.2 instruction on this machine.
bool crc32c_hardware() noexcept;

}  // namespace simdoptim::detail
