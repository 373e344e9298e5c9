#pragma once
// Zero-initialised, 64-byte-aligned float storage for arenas. Large buffers come from mmap,
// 2 MiB-aligned and advised to use transparent huge pages, and their pages are first touched
// by whoever writes them first (the step kernels, inside the TBB partition). Each buffer's data
// starts at a staggered offset so that parallel streams do not alias in the cache.
#include <cstddef>

namespace simdoptim::detail {

class AlignedBuffer {
 public:
  // `count` floats, zero-filled; `stream_index` picks the stagger (one per concurrent stream).
  AlignedBuffer(std::size_t count, std::size_t stream_index);
  ~AlignedBuffer();
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  float* data() noexcept { return data_; }
  const float* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return count_; }
  bool huge_pages() const noexcept { return huge_; }

  // Buffers at least this large use mmap and huge pages.
  static constexpr std::size_t kHugeThresholdBytes = std::size_t{2} << 20;

 private:
  void* base_ = nullptr;
  std::size_t mapped_bytes_ = 0;
  float* data_ = nullptr;
  std::size_t count_ = 0;
  bool huge_ = false;
};

}  // namespace simdoptim::detail
