#pragma once
// Per-tensor reductions over a group's arena (gradient norms for clipping, trust ratios for
// LAMB/LARS), vectorized and parallel but deterministic: each tensor is cut into chunks at fixed
// offsets (kReduceChunk elements from its start, whatever the thread count), chunks are reduced
// by the selected kernel build and combined in order.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "executor.hpp"
#include "kernels/storage_format.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/param_group.hpp"

namespace simdoptim::detail {

enum class Reduction {
  sum_squares,  // sum of x^2 (the squared L2 norm)
  abs_max,      // max |x| (the inf norm), NaN if any NaN
};

inline constexpr std::size_t kReduceChunk = std::size_t{1} << 16;

// out[i] = reduction of `arena`'s elements of tensor i, for every tensor of `group` whose
// `selected(i)` is true (others get 0). `arena` is the group's param, grad or state arena.
class TensorReducer {
 public:
  template <class Selected>
  void run(Executor& executor, Isa isa, const ParamGroup& group, const float* arena,
           Reduction reduction, Selected selected, std::span<double> out);
  // The same over gradients in an engine's buffers: tensors[i] holds tensor i's numel elements.
  // The same chunks and blocking relative to each tensor's start, so the same bits as over the
  // arena holding the same values.
  template <class Selected>
  void run(Executor& executor, Isa isa, const ParamGroup& group,
           std::span<const float* const> tensors, Reduction reduction, Selected selected,
           std::span<double> out);
  // The same over a 16-bit arena (bf16 or fp16 `format`), its elements widened: the same bits as
  // over an fp32 arena holding the widened values.
  template <class Selected>
  void run(Executor& executor, Isa isa, const ParamGroup& group, const std::uint16_t* arena16,
           Storage format, Reduction reduction, Selected selected, std::span<double> out);
  // The same over 16-bit gradients in an engine's buffers, as over its fp32 ones.
  template <class Selected>
  void run(Executor& executor, Isa isa, const ParamGroup& group,
           std::span<const std::uint16_t* const> tensors16, Storage format, Reduction reduction,
           Selected selected, std::span<double> out);

 private:
  void add_tensor(std::size_t tensor, const float* x, std::size_t begin, std::size_t end,
                  std::size_t count, const std::uint16_t* x16 = nullptr);
  void execute(Executor& executor, Isa isa, Reduction reduction, std::span<double> out);
  static std::size_t padded(std::size_t numel) noexcept {
    return (numel + ParamGroup::kTensorAlign - 1) / ParamGroup::kTensorAlign *
           ParamGroup::kTensorAlign;
  }
  struct Job {
    std::size_t tensor;
    const float* x;
    std::size_t begin, end, count;
    const std::uint16_t* x16;
  };
  std::vector<Job> jobs_;
  Storage format16_ = Storage::bf16;
  std::vector<double> partials_;
};

template <class Selected>
void TensorReducer::run(Executor& executor, Isa isa, const ParamGroup& group, const float* arena,
                        Reduction reduction, Selected selected, std::span<double> out) {
  jobs_.clear();
  for (std::size_t i = 0; i < group.size(); ++i) {
    out[i] = 0.0;
    if (!selected(i)) continue;
    const TensorInfo& t = group.info(i);
    // Padding is zero, so reducing to the padded end changes nothing and keeps SIMD tails away.
    add_tensor(i, arena, t.offset, t.offset + padded(t.numel), SIZE_MAX);
  }
  execute(executor, isa, reduction, out);
}

template <class Selected>
void TensorReducer::run(Executor& executor, Isa isa, const ParamGroup& group,
                        std::span<const float* const> tensors, Reduction reduction,
                        Selected selected, std::span<double> out) {
  jobs_.clear();
  for (std::size_t i = 0; i < group.size(); ++i) {
    out[i] = 0.0;
    if (!selected(i)) continue;
    const std::size_t numel = group.info(i).numel;
    add_tensor(i, tensors[i], 0, padded(numel), numel);
  }
  execute(executor, isa, reduction, out);
}

template <class Selected>
void TensorReducer::run(Executor& executor, Isa isa, const ParamGroup& group,
                        const std::uint16_t* arena16, Storage format, Reduction reduction,
                        Selected selected, std::span<double> out) {
  jobs_.clear();
  format16_ = format;
  for (std::size_t i = 0; i < group.size(); ++i) {
    out[i] = 0.0;
    if (!selected(i)) continue;
    const TensorInfo& t = group.info(i);
    add_tensor(i, nullptr, t.offset, t.offset + padded(t.numel), SIZE_MAX, arena16);
  }
  execute(executor, isa, reduction, out);
}

template <class Selected>
void TensorReducer::run(Executor& executor, Isa isa, const ParamGroup& group,
                        std::span<const std::uint16_t* const> tensors16, Storage format,
                        Reduction reduction, Selected selected, std::span<double> out) {
  jobs_.clear();
  format16_ = format;
  for (std::size_t i = 0; i < group.size(); ++i) {
    out[i] = 0.0;
    if (!selected(i)) continue;
    const std::size_t numel = group.info(i).numel;
    add_tensor(i, nullptr, 0, padded(numel), numel, tensors16[i]);
  }
  execute(executor, isa, reduction, out);
}

}  // namespace simdoptim::detail
