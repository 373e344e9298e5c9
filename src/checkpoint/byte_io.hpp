#pragma once
// Little-endian encoding of the checkpoint format (docs/checkpoint_format.md): a writer that
// frames sections with their CRC-32C, and a bounds-checked reader that throws CheckpointError
// naming what it was reading. Whatever the host's byte order, files are little-endian.
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/checkpoint.hpp"

namespace simdoptim::detail {

inline constexpr char kMagic[8] = {'S', 'M', 'D', 'O', 'P', 'T', 'C', 'K'};
// The newest version written: 2 adds weight averaging, 3 each group's storage and arrays as
// stored (docs/checkpoint_format.md). A file is written at the lowest version that holds its
// content.
inline constexpr std::uint32_t kFormatVersion = 3;
inline constexpr std::uint8_t kLittleEndian = 1;
inline constexpr std::size_t kHeaderSize = 20;  // magic, version, order, kind, reserved, CRC

enum class FileKind : std::uint8_t { optimizer = 1, scheduler = 2 };

// Section tags: four ASCII characters read as a little-endian u32.
constexpr std::uint32_t tag(const char (&s)[5]) {
  return std::uint32_t(std::uint8_t(s[0])) | std::uint32_t(std::uint8_t(s[1])) << 8 |
         std::uint32_t(std::uint8_t(s[2])) << 16 | std::uint32_t(std::uint8_t(s[3])) << 24;
}
inline constexpr std::uint32_t kMeta = tag("META");
inline constexpr std::uint32_t kGroup = tag("GRUP");
inline constexpr std::uint32_t kData = tag("DATA");
inline constexpr std::uint32_t kSched = tag("SCHD");
inline constexpr std::uint32_t kEnd = tag("END ");

class ByteWriter {
 public:
  void u8(std::uint8_t v) { out_.push_back(std::byte{v}); }
  void u16(std::uint16_t v) { le(v, 2); }
  void u32(std::uint32_t v) { le(v, 4); }
  void u64(std::uint64_t v) { le(v, 8); }
  void i64(std::int64_t v) { le(static_cast<std::uint64_t>(v), 8); }
  void f64(double v) { le(std::bit_cast<std::uint64_t>(v), 8); }
  void str(std::string_view s) {
    u32(static_cast<std::uint32_t>(s.size()));
    raw(s.data(), s.size());
  }
  void floats(std::span<const float> v) {
    u64(v.size());
    if constexpr (std::endian::native == std::endian::little) {
      raw(v.data(), v.size() * sizeof(float));
    } else {
      for (float x : v) u32(std::bit_cast<std::uint32_t>(x));
    }
  }
  void u16s(std::span<const std::uint16_t> v) {
    u64(v.size());
    for (std::uint16_t x : v) u16(x);
  }
  void bytes8(std::span<const std::uint8_t> v) {
    u64(v.size());
    raw(v.data(), v.size());
  }
  void raw(const void* p, std::size_t n) {
    if (n == 0) return;
    const auto* b = static_cast<const std::byte*>(p);
    out_.insert(out_.end(), b, b + n);
  }
  std::vector<std::byte>& bytes() noexcept { return out_; }

 private:
  void le(std::uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(std::byte(static_cast<std::uint8_t>(v >> (8 * i))));
  }
  std::vector<std::byte> out_;
};

class ByteReader {
 public:
  ByteReader(std::span<const std::byte> bytes, std::string what)
      : bytes_(bytes), what_(std::move(what)) {}

  std::uint8_t u8() { return static_cast<std::uint8_t>(le(1)); }
  std::uint16_t u16() { return static_cast<std::uint16_t>(le(2)); }
  std::uint32_t u32() { return static_cast<std::uint32_t>(le(4)); }
  std::uint64_t u64() { return le(8); }
  std::int64_t i64() { return static_cast<std::int64_t>(le(8)); }
  double f64() { return std::bit_cast<double>(le(8)); }
  std::string str() {
    const std::uint32_t n = u32();
    need(n);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::vector<float> floats() {
    const std::uint64_t n = u64();
    if (n > remaining() / sizeof(float))
      fail("array of " + std::to_string(n) + " floats is truncated");
    std::vector<float> v(static_cast<std::size_t>(n));
    if constexpr (std::endian::native == std::endian::little) {
      // An empty vector's data() may be null, which memcpy must not get (found by fuzzing).
      if (!v.empty()) std::memcpy(v.data(), bytes_.data() + pos_, v.size() * sizeof(float));
      pos_ += v.size() * sizeof(float);
    } else {
      for (float& x : v) x = std::bit_cast<float>(u32());
    }
    return v;
  }
  std::vector<std::uint16_t> u16s() {
    const std::uint64_t n = u64();
    if (n > remaining() / 2) fail("array of " + std::to_string(n) + " 16-bit values is truncated");
    std::vector<std::uint16_t> v(static_cast<std::size_t>(n));
    for (std::uint16_t& x : v) x = u16();
    return v;
  }
  std::vector<std::uint8_t> bytes8() {
    const std::uint64_t n = u64();
    if (n > remaining()) fail("array of " + std::to_string(n) + " bytes is truncated");
    const auto src = take(static_cast<std::size_t>(n));
    std::vector<std::uint8_t> v(src.size());
    if (!v.empty()) std::memcpy(v.data(), src.data(), v.size());
    return v;
  }
  // A count of items that each take at least `min_bytes`: a corrupt count fails here instead
  // of allocating.
  std::size_t count(std::size_t min_bytes) {
    const std::uint32_t n = u32();
    if (n > remaining() / min_bytes)
      fail("truncated or corrupted: count " + std::to_string(n) + " exceeds the data");
    return n;
  }
  std::span<const std::byte> take(std::size_t n) {
    need(n);
    auto s = bytes_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  std::size_t remaining() const noexcept { return bytes_.size() - pos_; }
  std::size_t position() const noexcept { return pos_; }
  [[noreturn]] void fail(const std::string& why) const {
    throw CheckpointError(what_ + ": " + why);
  }
  const std::string& what() const noexcept { return what_; }

 private:
  void need(std::size_t n) const {
    if (n > remaining())
      fail("truncated (needs " + std::to_string(n) + " more bytes at offset " +
           std::to_string(pos_) + ", has " + std::to_string(remaining()) + ")");
  }
  std::uint64_t le(int n) {
    need(static_cast<std::size_t>(n));
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
      v |= std::uint64_t(std::to_integer<std::uint8_t>(bytes_[pos_ + i])) << (8 * i);
    pos_ += static_cast<std::size_t>(n);
    return v;
  }
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
  std::string what_;
};

// Appends the file header of `kind` at format `version`.
void write_header(ByteWriter& w, FileKind kind, std::uint32_t version);
// Appends one section: tag, payload length, payload, CRC-32C of the three.
void write_section(ByteWriter& w, std::uint32_t tag, const std::vector<std::byte>& payload);
// Checks the header (magic, CRC, version, byte order, kind) and returns its format version;
// throws CheckpointError.
std::uint32_t read_header(ByteReader& r, FileKind kind);
// Reads the next section, checks its CRC and that its tag is `expected`; returns its payload.
std::span<const std::byte> read_section(ByteReader& r, std::uint32_t expected, const char* name);
// Reads the END section (which counts the sections before it) and checks nothing follows.
void read_end(ByteReader& r, std::uint32_t sections);
// Writes the END section.
void write_end(ByteWriter& w, std::uint32_t sections);

}  // namespace simdoptim::detail
