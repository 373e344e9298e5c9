#include "aligned_buffer.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

namespace simdoptim::detail {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;
constexpr std::size_t kCacheLine = 64;
// 17 cache lines: offsets k * 1088 are distinct modulo 4 KiB for k < 8 streams.
constexpr std::size_t kStaggerBytes = 17 * kCacheLine;

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

// SIMDOPTIM_HUGE_PAGES=0 turns the madvise off, to measure what huge pages bring.
bool huge_pages_wanted() {
  static const bool wanted = [] {
    const char* env = std::getenv("SIMDOPTIM_HUGE_PAGES");
    return env == nullptr || std::string_view(env) != "0";
  }();
  return wanted;
}

}  // namespace

AlignedBuffer::AlignedBuffer(std::size_t count, std::size_t stream_index) : count_(count) {
  const std::size_t stagger = (stream_index % 8) * kStaggerBytes;
  const std::size_t bytes = count * sizeof(float) + stagger;
  if (bytes >= kHugeThresholdBytes) {
    // Over-map by one huge page so the start can be aligned to it.
    mapped_bytes_ = round_up(bytes, kHugePage) + kHugePage;
    void* p =
        mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    base_ = p;
    auto addr = reinterpret_cast<std::uintptr_t>(p);
    auto aligned = round_up(addr, kHugePage);
#ifdef MADV_HUGEPAGE
    huge_ = huge_pages_wanted() && madvise(reinterpret_cast<void*>(aligned),
                                           mapped_bytes_ - (aligned - addr), MADV_HUGEPAGE) == 0;
#endif
    data_ = reinterpret_cast<float*>(aligned + stagger);
  } else {
    const std::size_t alloc = round_up(bytes == 0 ? kCacheLine : bytes, kCacheLine);
    base_ = std::aligned_alloc(kCacheLine, alloc);
    if (base_ == nullptr) throw std::bad_alloc();
    std::memset(base_, 0, alloc);
    data_ = reinterpret_cast<float*>(static_cast<char*>(base_) + stagger);
  }
}

AlignedBuffer::~AlignedBuffer() {
  if (mapped_bytes_ != 0)
    munmap(base_, mapped_bytes_);
  else
    std::free(base_);
}

}  // namespace simdoptim::detail
