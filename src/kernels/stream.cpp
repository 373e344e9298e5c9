// Memory-only reference kernels, written once over V (kernels/kernel_source.hpp): the scalar
// build and every instruction set's.
#include <algorithm>

#include "kernels/kernel_source.hpp"
#include "kernels/stream_kernel.hpp"

namespace simdoptim::detail {
namespace {

// Adam's streams; with Average also the average's (e), updated from the new a.
template <bool Average, class V>
void adam_streams(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  for (std::size_t i = begin; i + w <= end; i += w) {
    const V g = vload<V>(s.b + i);
    const V m = vload<V>(s.c + i) + g;
    const V v = vload<V>(s.d + i) + g;
    vstore(s.c + i, m);
    vstore(s.d + i, v);
    const V p = vload<V>(s.a + i) + m;
    vstore(s.a + i, p);
    if constexpr (Average) vstore(s.e + i, vload<V>(s.e + i) + p);
  }
}

template <class V>
void adam_pattern_loop(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  adam_streams<false, V>(s, begin, end);
}

template <class V>
void adam_average_pattern_loop(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  adam_streams<true, V>(s, begin, end);
}

template <class V>
void sgd_pattern_loop(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  for (std::size_t i = begin; i + w <= end; i += w) {
    const V buf = vload<V>(s.c + i) + vload<V>(s.b + i);
    vstore(s.c + i, buf);
    vstore(s.a + i, vload<V>(s.a + i) + buf);
  }
}

template <class V>
void asgd_pattern_loop(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  for (std::size_t i = begin; i + w <= end; i += w) {
    const V p = vload<V>(s.a + i) + vload<V>(s.b + i);
    vstore(s.a + i, p);
    vstore(s.c + i, p);
  }
}

template <class V>
void read_pattern_loop(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  V acc0(0.0f), acc1(0.0f), acc2(0.0f), acc3(0.0f);
  std::size_t i = begin;
  for (; i + 4 * w <= end; i += 4 * w) {
    acc0 = acc0 + vload<V>(s.a + i);
    acc1 = acc1 + vload<V>(s.a + i + w);
    acc2 = acc2 + vload<V>(s.a + i + 2 * w);
    acc3 = acc3 + vload<V>(s.a + i + 3 * w);
  }
  for (; i + w <= end; i += w) acc0 = acc0 + vload<V>(s.a + i);
  alignas(64) float sums[w];
  vstore(sums, (acc0 + acc1) + (acc2 + acc3));
  float total = 0.0f;
  for (float x : sums) total += x;
  if (total != total) *s.c = total;
}

template <class V>
void triad_loop(const StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  const V scalar(s.scalar);
  for (std::size_t i = begin; i + w <= end; i += w)
    vstore(s.a + i, vload<V>(s.b + i) + scalar * vload<V>(s.c + i));
}

// Each array's bytes of the tile as floats: the gradient's summed, the others read, plus that
// sum, and written back; the copy written from the sum.
template <class V>
void storage_pattern_loop(const StoragePatternArgs& s, std::size_t begin,
                          std::size_t end) noexcept {
  constexpr std::size_t w = lanes<V>();
  constexpr std::size_t tile = 256;
  for (std::size_t t = begin; t < end; t += tile) {
    const std::size_t n = std::min(tile, end - t);
    V acc(0.0f);
    auto floats = [&](std::size_t size, std::size_t& first) {
      first = t * size / 4;
      return n * size / 4;
    };
    std::size_t first = 0;
    const std::size_t ro = floats(s.ro_size, first);
    const float* g = static_cast<const float*>(s.ro) + first;
    for (std::size_t j = 0; j + w <= ro; j += w) acc = acc + vload_unaligned<V>(g + j);
    for (std::size_t k = 0; k < StoragePatternArgs::kMaxArrays; ++k) {
      if (s.rw[k] == nullptr) continue;
      const std::size_t count = floats(s.rw_size[k], first);
      float* a = static_cast<float*>(s.rw[k]) + first;
      for (std::size_t j = 0; j + w <= count; j += w)
        vstore_unaligned(a + j, vload_unaligned<V>(a + j) + acc);
    }
    if (s.wo != nullptr) {
      const std::size_t count = floats(s.wo_size, first);
      float* a = static_cast<float*>(s.wo) + first;
      for (std::size_t j = 0; j + w <= count; j += w) vstore_unaligned(a + j, acc);
    }
  }
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(adam_pattern, StreamArgs, adam_pattern_loop)
SIMDOPTIM_DEFINE_KERNEL(adam_average_pattern, StreamArgs, adam_average_pattern_loop)
SIMDOPTIM_DEFINE_KERNEL(sgd_pattern, StreamArgs, sgd_pattern_loop)
SIMDOPTIM_DEFINE_KERNEL(asgd_pattern, StreamArgs, asgd_pattern_loop)
SIMDOPTIM_DEFINE_KERNEL(read_pattern, StreamArgs, read_pattern_loop)
SIMDOPTIM_DEFINE_KERNEL(triad, StreamArgs, triad_loop)
SIMDOPTIM_DEFINE_KERNEL(storage_pattern, StoragePatternArgs, storage_pattern_loop)
