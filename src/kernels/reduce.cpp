// Reductions, written once over V (kernels/kernel_source.hpp): the scalar reference and every
// instruction set's kernel, with reduce_kernel.hpp's lanes, blocks and order.
#include <cmath>

#include "kernels/blocked_sum.hpp"
#include "kernels/kernel_source.hpp"
#include "kernels/reduce_kernel.hpp"
#include "kernels/storage.hpp"

namespace simdoptim::detail {
namespace {

// Elements [j, j + lanes) of the range, widened from format S.
template <class V, Storage S>
V load_element(const ReduceArgs& a, std::size_t j) noexcept {
  if constexpr (S == Storage::f32)
    return load_until<V>(a.x, j, a.count);
  else
    return load16_until<V, S>(a.x16, j, a.count);
}

// Runs loop<S> for the range's format.
template <template <class, Storage> class Loop, class V>
void by_format(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  if (a.x16 == nullptr) return Loop<V, Storage::f32>::run(a, begin, end);
  if (a.format16 == Storage::bf16) return Loop<V, Storage::bf16>::run(a, begin, end);
  Loop<V, Storage::f16>::run(a, begin, end);
}

template <class V, Storage S>
struct SumSquares {
  static void run(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
    *a.out = blocked_sum<V>(begin, end, [&](std::size_t j) {
      const V x = load_element<V, S>(a, j);
      return x * x;
    });
  }
};

template <class V>
void sum_squares_loop(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  by_format<SumSquares, V>(a, begin, end);
}

template <class V, Storage S>
struct AbsMax {
  static void run(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
    constexpr std::size_t w = lanes<V>();
    V acc(0.0f);
    for (std::size_t i = begin; i + w <= end; i += w)
      acc = ops::nan_max(ops::abs(load_element<V, S>(a, i)), acc);
    alignas(64) float lane_max[w];
    vstore(lane_max, acc);
    float m = 0.0f;
    for (float lane : lane_max) m = (std::isnan(lane) || lane > m) ? lane : m;
    *a.out = static_cast<double>(m);
  }
};

template <class V>
void abs_max_loop(const ReduceArgs& a, std::size_t begin, std::size_t end) noexcept {
  by_format<AbsMax, V>(a, begin, end);
}

}  // namespace
}  // namespace simdoptim::detail

SIMDOPTIM_DEFINE_KERNEL(sum_squares, ReduceArgs, sum_squares_loop)
SIMDOPTIM_DEFINE_KERNEL(abs_max, ReduceArgs, abs_max_loop)
