#pragma once
/// One parameter group: its options and its flat arenas (parameters, gradients, state).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simdoptim/group_options.hpp"
#include "simdoptim/storage_options.hpp"
#include "simdoptim/types.hpp"

namespace simdoptim {
namespace detail {
class AlignedBuffer;
}

inline namespace v1 {

/// Where one tensor lives in its group's arenas. `offset` is a multiple of
/// ParamGroup::tensor_align() elements (16, 64 B; 256 with q8 state, the quantization block).
struct TensorInfo {
  std::string name;
  Shape shape;
  std::size_t offset = 0;
  std::size_t numel = 0;
};

/// Per-tensor bookkeeping, as torch's `state[p]` minus the arrays.
struct TensorState {
  /// torch's state[p]['step']: how many steps updated this tensor.
  std::int64_t step = 0;
  /// True once the optimizer created this tensor's state (torch: `len(state[p]) > 0`; for SGD:
  /// a momentum buffer exists).
  bool initialized = false;
  /// False after zero_grad(set_to_none=true) until the gradient is written (torch: grad is None).
  bool has_grad = false;
  /// The largest step count a tensor may have: exact in double, in which every per-step scalar
  /// is computed, and far from overflowing when incremented.
  static constexpr std::int64_t kMaxStep = std::int64_t{1} << 53;
};

/// A param group, as an entry of torch's `optimizer.param_groups`. Its tensors are packed into
/// 64-byte-aligned contiguous arenas: one for parameters, one for gradients and one per state
/// array (exp_avg, exp_avg_sq, momentum_buffer, ...). Padding between tensors stays zero. Each
/// arena holds the elements of its dtype (StorageOptions); a tensor's offset is the same in all.
class ParamGroup {
 public:
  /// Throws std::invalid_argument on a bad shape, init size, duplicate name or storage.
  /// ParamSpec::init is rounded to nearest-even into 16-bit parameters.
  ParamGroup(std::vector<ParamSpec> params, GroupOptions options, StorageOptions storage = {});
  ~ParamGroup();
  ParamGroup(const ParamGroup&) = delete;
  ParamGroup& operator=(const ParamGroup&) = delete;

  /// The group's hyper-parameters (torch: the group dict without 'params').
  GroupOptions& options() noexcept { return options_; }
  const GroupOptions& options() const noexcept { return options_; }
  /// options().get("lr").
  double lr() const { return options_.get("lr"); }
  /// options().set("lr", value).
  void set_lr(double value) { options_.set("lr", value); }

  /// Number of tensors.
  std::size_t size() const noexcept { return tensors_.size(); }
  /// Name, shape and arena offset of tensor `i`.
  const TensorInfo& info(std::size_t i) const { return tensors_.at(i); }
  /// Index of the tensor called `name`, or size() when there is none.
  std::size_t find(std::string_view name) const noexcept;

  /// Tensor `i`'s parameter values, in param_dtype() (with master weights: the 16-bit copy the
  /// step writes).
  TensorView param(std::size_t i);
  /// Tensor `i`'s fp32 master weights. Throws std::logic_error without master weights.
  TensorView master_param(std::size_t i);
  /// Tensor `i`'s gradient, for writing. Marks the gradient present; if it was absent (torch:
  /// None) it is zero-filled first, as torch materialises a fresh zero gradient.
  TensorView grad(std::size_t i);
  /// Whether tensor `i` has a gradient (torch: `p.grad is not None`).
  bool has_grad(std::size_t i) const { return states_.at(i).has_grad; }
  /// Marks tensor `i`'s gradient present or absent without touching its values; for engines
  /// that keep the gradient spans across steps and write them directly.
  void set_has_grad(std::size_t i, bool present) { states_.at(i).has_grad = present; }

  /// Names of the state arrays allocated so far (empty before the first step).
  std::vector<std::string> state_names() const;
  /// Whether the optimizer has created state for tensor `i`.
  bool has_state(std::size_t i) const { return states_.at(i).initialized; }
  /// Tensor `i`'s state array `name` (torch: state[p][name]). Throws std::out_of_range when the
  /// array does not exist or the tensor has no state yet.
  TensorView state(std::size_t i, std::string_view name);
  /// torch's state[p]['step'].
  std::int64_t step_count(std::size_t i) const { return states_.at(i).step; }
  /// All per-tensor bookkeeping, for the optimizer and for checkpoints.
  std::span<TensorState> tensor_states() noexcept { return states_; }

  /// Arena length in elements: the tensors, their padding and a tail padded to 64 elements.
  std::size_t padded_numel() const noexcept { return padded_numel_; }
  /// The whole fp32 parameter arena, padding included: the parameters, or the master weights;
  /// empty when the parameters are 16-bit without master weights.
  std::span<float> param_arena() noexcept;
  /// The whole 16-bit parameter arena (the parameters, or the master weights' copy); empty when
  /// the parameters are fp32.
  std::span<std::uint16_t> param16_arena() noexcept;
  /// The whole gradient arena, padding included; empty when the gradients are 16-bit.
  std::span<float> grad_arena() noexcept;
  /// The whole 16-bit gradient arena; empty when the gradients are fp32.
  std::span<std::uint16_t> grad16_arena() noexcept;
  /// The whole state array `name`, or nullptr when it is not allocated. Its elements are
  /// state_dtype(): with 16-bit state, cast to std::uint16_t*; with q8 state, padded_numel()
  /// bytes of codes followed by padded_numel() / 256 fp32 scales (q8_scales).
  float* state_arena(std::string_view name) noexcept;
  /// Allocates (zero-filled) state array `name` if missing and returns it (elements as
  /// state_arena's). Never moves an existing array. `non_negative` marks an array that holds
  /// only values >= 0 (a second moment), which q8 state stores companded.
  float* ensure_state_arena(std::string_view name, bool non_negative = false);
  /// Whether state array `name` was marked non-negative.
  bool state_non_negative(std::string_view name) const noexcept;
  /// The scales of a q8 state arena (one per 256 elements).
  float* q8_scales(float* arena) const noexcept { return arena + padded_numel_ / 4; }
  /// A state array allocated ahead of joining its group (see make_state_arenas).
  struct NewStateArena {
    std::string name;
    std::unique_ptr<detail::AlignedBuffer> buffer;
    bool non_negative = false;
  };
  /// Allocates (zero-filled) the arrays of `names` the group lacks, without adding them, and
  /// reserves room for them: the failing half of an all-or-nothing change (checkpoint loading
  /// allocates everything before it changes anything). Throws std::bad_alloc.
  std::vector<NewStateArena> make_state_arenas(std::span<const std::string> names) const;
  /// Adds the arrays make_state_arenas made (on this group); cannot fail.
  void add_state_arenas(std::vector<NewStateArena>& arenas) noexcept;
  /// Tensor `i`'s averaged parameter (Optimizer::set_averaging): EMA, running mean or
  /// Lookahead's slow weights. Throws std::out_of_range when the group keeps no average.
  TensorView averaged_param(std::size_t i);
  /// The whole averaged-parameter array, padding included, or nullptr when there is none; its
  /// elements are averaged_dtype() (16-bit ones as pairs in each float, as state arrays are).
  float* averaged_arena() noexcept;
  DType averaged_dtype() const noexcept { return averaged_dtype_; }
  /// Allocates the averaged-parameter array of `dtype` if missing (or of another dtype) and sets
  /// it to the parameters, rounded to nearest-even; returns it.
  float* reset_averaged_arena(DType dtype = DType::f32);
  /// The values the average reads: the fp32 parameters or master weights, else nullptr (the
  /// 16-bit parameters, param16_arena()).
  float* averaged_source() noexcept { return param_arena().data(); }
  /// With master weights: rewrites the 16-bit parameters from them, rounded to nearest-even.
  void round_master_weights() noexcept;
  /// Whether the step's own pass can update the average: fp32, of fp32 values.
  bool fuses_averaging() const noexcept {
    return params_ != nullptr && averaged_dtype_ == DType::f32;
  }
  /// How the arenas store their elements.
  const StorageOptions& storage() const noexcept { return storage_; }
  /// Element types of the arenas.
  DType param_dtype() const noexcept { return storage_.param; }
  DType grad_dtype() const noexcept { return storage_.grad; }
  DType state_dtype() const noexcept { return storage_.state; }

  /// Every arena element index is aligned to this many elements at a tensor start.
  static constexpr std::size_t kTensorAlign = 16;
  /// With q8 state, tensors start on multiples of this many elements, the quantization block,
  /// so that no block straddles two tensors.
  static constexpr std::size_t kQ8Align = 256;
  /// The alignment of this group's tensor offsets: kTensorAlign, or kQ8Align with q8 state.
  std::size_t tensor_align() const noexcept {
    return storage_.state == DType::q8 ? kQ8Align : kTensorAlign;
  }
  /// The arena length is a multiple of this many elements (the widest unrolled batch).
  static constexpr std::size_t kArenaAlign = 64;

 private:
  GroupOptions options_;
  std::vector<TensorInfo> tensors_;
  std::vector<TensorState> states_;
  std::size_t padded_numel_ = 0;
  StorageOptions storage_;
  std::unique_ptr<detail::AlignedBuffer> params_;    // fp32 parameters or master weights
  std::unique_ptr<detail::AlignedBuffer> params16_;  // 16-bit parameters
  std::unique_ptr<detail::AlignedBuffer> grads_;
  std::unique_ptr<detail::AlignedBuffer> averaged_;
  DType averaged_dtype_ = DType::f32;
  // Mutable: make_state_arenas reserves room, which changes no value.
  mutable std::vector<NewStateArena> state_arrays_;
};

}  // namespace v1
}  // namespace simdoptim
