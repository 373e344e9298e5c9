#pragma once
/// The optimizer base class, as torch.optim.Optimizer.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simdoptim/averaging.hpp"
#include "simdoptim/group_options.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/param_group.hpp"
#include "simdoptim/types.hpp"

namespace simdoptim {
namespace detail {
class Executor;
struct ToolScratch;
}  // namespace detail

inline namespace v1 {

/// How an optimizer runs: which kernel build and how many threads.
struct RuntimeOptions {
  /// Kernel build; empty means default_isa() (SIMDOPTIM_ISA or the best one).
  std::optional<Isa> isa = std::nullopt;
  /// Worker threads; 0 means SIMDOPTIM_NUM_THREADS when set, else all cores.
  int num_threads = 0;
};

/// Where Optimizer::step(const StepGrads&) reads the gradients, and a scale applied as they are
/// read.
struct StepGrads {
  /// Gradients the engine keeps in its own memory, read in place (never copied by the
  /// elementwise optimizers): one pointer per tensor of every group, in group order then tensor
  /// order, each to that tensor's numel contiguous float32 values (any alignment; nothing past
  /// the last element is read). nullptr: the tensor has no gradient and is skipped (torch: grad
  /// is None). Empty: the arenas' gradients and has_grad flags, as step().
  std::span<const float* const> external{};
  /// Every gradient is read as g * scale rounded to float32, the same product clip_grad_norm_
  /// stores when it scales in place, so step({.scale = c}) equals scaling by c then step(), bit
  /// for bit. 1 reads the gradients unchanged. A bf16 or fp16 gradient is read as
  /// clip_grad_norm_ scales it: times the scale rounded to its format, the product rounded to
  /// it (torch: g.mul_(scale) on a 16-bit tensor).
  float scale = 1.0f;
  /// Gradients in 16 bits, read in place as `external` (which must then be empty): one pointer
  /// per tensor, each to numel values of external16_dtype (bf16 or fp16), nullptr for none.
  /// Elementwise optimizers only (an offload engine's bf16 gradients).
  std::span<const std::uint16_t* const> external16{};
  DType external16_dtype = DType::bf16;
  /// Where the step writes the 16-bit parameters of groups with master weights: one pointer per
  /// tensor of every group, each to numel values of its group's param dtype (any alignment;
  /// nothing past them is written), nullptr for the arena's copy; empty: the arena's copies.
  /// The arena's copy of a tensor written here is left as it was (an offload engine's buffer).
  std::span<std::uint16_t* const> param_out{};
};

/// Base of every optimizer. Owns the param groups (each with its arenas), a oneTBB task arena
/// and the selected kernel table. torch.optim.Optimizer's API with C++ types.
class Optimizer {
 public:
  virtual ~Optimizer();
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// Lower-case optimizer name ("sgd", "adam", "adamw", ...).
  virtual std::string_view name() const noexcept = 0;

  /// Adds a param group (torch: add_param_group). Options not in `overrides` take the
  /// optimizer's defaults; `overrides` may name the optimizer's options plus `initial_lr` and
  /// `lr_scale`. Throws std::invalid_argument on a bad option, an unknown key, a bad shape or
  /// init size, a name already registered, or a group the optimizer does not take (LBFGS takes
  /// one). Existing views stay valid.
  ParamGroup& add_param_group(std::vector<ParamSpec> params, const GroupOptions& overrides = {});
  /// As above, with the group's arrays stored as `storage` says (bf16/fp16 parameters,
  /// gradients and state, master weights; docs/precision.md). Throws std::invalid_argument on a
  /// combination StorageOptions::validate refuses, or non-fp32 storage for an optimizer that is
  /// not elementwise (supports_storage()).
  ParamGroup& add_param_group(std::vector<ParamSpec> params, const GroupOptions& overrides,
                              const StorageOptions& storage);
  /// Whether param groups may store their arrays in 16 bits (the elementwise optimizers).
  virtual bool supports_storage() const noexcept { return false; }

  /// torch's `param_groups`. A deque, so references survive add_param_group.
  std::deque<ParamGroup>& param_groups() noexcept { return groups_; }
  const std::deque<ParamGroup>& param_groups() const noexcept { return groups_; }
  /// The defaults every new group starts from (torch: `defaults`).
  const GroupOptions& defaults() const noexcept { return defaults_; }

  /// torch's zero_grad. With `set_to_none` every gradient becomes absent (its tensor is skipped
  /// by step() until the gradient is written through grad()); otherwise gradients are zero-filled
  /// and stay present.
  void zero_grad(bool set_to_none = true) noexcept;

  /// One optimisation step over every tensor that has a gradient.
  void step();
  /// One step over the gradients `grads` names, scaled by grads.scale, in the same fused pass
  /// as step(): bitwise equal to copying the external gradients into the arena (marking the
  /// others absent), scaling them in place and calling step(), on every instruction set and
  /// thread count; skip_if_nonfinite checks the gradients step() would have read. The arenas'
  /// gradients and has_grad flags are neither read nor changed by the elementwise optimizers;
  /// LAMB, LARS and Adafactor read gradients in several passes, so for them the gradients are
  /// first copied (and scaled) into the arena, which is then left holding them. LBFGS throws
  /// std::logic_error, as step(): it needs a closure. Throws std::invalid_argument when
  /// grads.external is neither empty nor one pointer per tensor. No torch equivalent (DeepSpeed's
  /// FusedAdam.step(combined_scale) is the closest).
  void step(const StepGrads& grads);
  /// Calls `closure` (which re-evaluates the loss and writes gradients), then steps; returns
  /// the closure's loss (torch: step(closure)). Virtual for closure-driven optimizers (LBFGS).
  virtual double step(const std::function<double()>& closure);

  /// (group index, tensor index) of the parameter called `name`; throws std::out_of_range.
  std::pair<std::size_t, std::size_t> locate(std::string_view name) const;
  /// The parameter called `name`.
  TensorView param(std::string_view name);
  /// The gradient of the parameter called `name` (marks it present, see ParamGroup::grad).
  TensorView grad(std::string_view name);

  /// The kernel build this optimizer runs.
  Isa isa() const noexcept { return isa_; }
  /// Its worker thread count.
  int num_threads() const noexcept;

  /// Checks a complete option set; throws std::invalid_argument naming the option and value.
  virtual void validate(const GroupOptions& options) const = 0;

  /// Opt-in step mode (AMP's found_inf, optax's apply_if_finite): when on, step() first checks
  /// that every present gradient is finite and, if one is NaN or Inf, leaves parameters, state
  /// and step counts untouched and reports it through last_step_skipped(). The check is one
  /// read-only pass over the gradients, or free when clip_grad_norm_ over the whole optimizer
  /// ran since the last step (its norm already tells). Off by default, as torch.
  void set_skip_if_nonfinite(bool on) noexcept { skip_if_nonfinite_ = on; }
  bool skip_if_nonfinite() const noexcept { return skip_if_nonfinite_; }

  /// Subnormal state (a deviation from torch, on by default): every state value an update
  /// stores whose magnitude is below FLT_MIN (1.17549435e-38) becomes a zero of its sign. A state
  /// that decays geometrically (exp_avg of a weight whose gradient stays zero) otherwise sinks into
  /// subnormal floats, where arithmetic is many times slower on x86 and many Arm cores, and
  /// sticks there (0.9 x 4 ulps rounds back to 4 ulps). The same bits on every instruction set
  /// and thread count; the floating-point environment is not touched. Parameters are never
  /// flushed. Off: torch's arithmetic exactly. Applies to the elementwise optimizers.
  void set_flush_subnormal_state(bool on) noexcept { flush_subnormal_state_ = on; }
  bool flush_subnormal_state() const noexcept { return flush_subnormal_state_; }
  /// True when the last step() was skipped because a gradient was not finite.
  bool last_step_skipped() const noexcept { return last_step_skipped_; }
  /// Records that every present gradient is finite until the next step(), zero_grad() or
  /// step(closure); clip_grad_norm_ calls it when its total norm is finite, so that step() in
  /// skip_if_nonfinite mode need not look again. Gradients written after this call are not seen.
  /// This covers the arenas' gradients: a step(const StepGrads&) that reads an engine's buffers
  /// checks them.
  void note_grads_finite() noexcept;
  /// The same for the engine's gradients `external` (StepGrads::external): a step that reads
  /// other gradients (other pointers, 16-bit ones, the arenas') checks them.
  void note_grads_finite(std::span<const float* const> external);

  /// Per-tensor scalar state kept outside the arenas (torch's 0-d tensor state, e.g. NAdam's
  /// mu_product, ASGD's eta and mu), for checkpoints: appends (name, value) pairs for tensor
  /// `tensor` of group `group`, the same names in the same order for every tensor. Default: none.
  virtual void save_tensor_scalars(std::size_t group, std::size_t tensor,
                                   std::vector<std::pair<std::string, double>>& out) const;
  /// Restores what save_tensor_scalars wrote. Checkpoint loading has already checked that the
  /// names equal save_tensor_scalars' names, so this must not fail. Default: nothing.
  virtual void load_tensor_scalars(std::size_t group, std::size_t tensor,
                                   std::span<const std::pair<std::string, double>> values);

  /// Allocates whatever load_tensor_scalars needs for the tensors of group `group`, so that
  /// it cannot fail (checkpoint loading calls it before it changes anything). Default: nothing.
  virtual void reserve_tensor_scalars(std::size_t group) { static_cast<void>(group); }

  /// A state array kept outside the arenas, with a size of its own (Adafactor's factored row
  /// and column statistics): its name and a view of the optimizer's storage.
  struct SideArray {
    std::string name;
    std::span<float> data;
  };
  /// The side arrays of tensor `tensor` of group `group`, for checkpoints, allocated (zero) if
  /// the optimizer has not yet; the same names and sizes on every call. Default: none.
  virtual std::vector<SideArray> side_arrays(std::size_t group, std::size_t tensor);

  /// Keeps an average of the parameters beside them (AveragingOptions: EMA, SWA's running mean,
  /// Lookahead), updated by every following step in the step's own pass. The average of every
  /// group starts as its current parameters (a group added later: as its parameters at its
  /// first step); the step and update counts restart at zero. Mode::none stops averaging.
  /// Throws std::invalid_argument naming a bad option. torch: AveragedModel(model) with
  /// update_parameters(model) after each step; timm: ModelEmaV2, Lookahead.
  void set_averaging(AveragingOptions options);
  const AveragingOptions& averaging() const noexcept { return averaging_; }
  /// Sets the EMA decay of the following updates (a decay chosen step by step, without the
  /// counts restarting); throws std::invalid_argument unless 0 <= decay <= 1.
  void set_averaging_decay(double decay);
  /// Steps counted since set_averaging.
  std::int64_t averaging_step() const noexcept { return averaging_step_; }
  /// Averaging updates made since set_averaging (torch: AveragedModel.n_averaged).
  std::int64_t n_averaged() const noexcept { return n_averaged_; }
  /// Restores both counts (checkpoints); throws std::invalid_argument for a negative count.
  void set_averaging_counts(std::int64_t step, std::int64_t n_averaged);
  /// The averaged copy of the parameter called `name` (torch: the AveragedModel's parameter).
  /// Throws std::out_of_range for an unknown name or a group that keeps no average.
  TensorView averaged_param(std::string_view name);
  /// Exchanges every group's parameters with their averages, in place (one pass, no extra
  /// memory): call it before evaluating with the averaged weights and again after. Views stay
  /// valid and see the exchanged values. An engine that can point its layers at other memory
  /// evaluates with averaged_param() views instead, copying nothing. Throws std::logic_error
  /// when averaging is off.
  void swap_averaged_params();

  /// The worker threads, for the library's own tools (clipping, non-finite checks); its type is
  /// internal.
  detail::Executor& tools_executor() noexcept { return *executor_; }
  /// The buffers those tools reuse on this optimizer from call to call; its type is internal.
  detail::ToolScratch& tools_scratch() noexcept { return *tools_scratch_; }

 protected:
  Optimizer(GroupOptions defaults, RuntimeOptions runtime);

  /// Updates the tensors of `group` that have a gradient. The base has already checked that at
  /// least one has.
  virtual void step_group(ParamGroup& group) = 0;

  /// Called by add_param_group before validate() with the new group's options (the defaults
  /// with `overrides` applied): an optimizer may refuse another group or derive options from
  /// the overrides (LBFGS takes one group, and its max_eval follows an overridden max_iter).
  /// Throws std::invalid_argument to refuse. Default: nothing.
  virtual void prepare_param_group(GroupOptions& options, const GroupOptions& overrides) const;

  detail::Executor& executor() noexcept { return *executor_; }

  /// The averaging update of the step in progress, as the kernels take it: `kind` an
  /// AverageKind of src/kernels/average_element.hpp (0: none), weights w0 and w1; `fused` when
  /// step_group applies it to the tensors it steps (the base averages the rest after it).
  struct AveragingCall {
    std::uint32_t kind = 0;
    float w0 = 0.0f;
    float w1 = 0.0f;
    bool fused = false;
  };
  const AveragingCall& averaging_call() const noexcept { return averaging_call_; }
  /// Whether step_group can apply averaging_call() in its own pass. Default: no.
  virtual bool fuses_averaging() const noexcept { return false; }

  /// Whether step_group reads external_grads() and grad_scale() itself. When not (the
  /// default), step(const StepGrads&) copies and scales the gradients into the arena first.
  virtual bool reads_step_grads() const noexcept { return false; }
  /// Inside step(const StepGrads&): the engine's gradient pointers for `group`'s tensors, or
  /// empty when the arena holds the gradients.
  std::span<const float* const> external_grads(const ParamGroup& group) const;
  /// Inside step(const StepGrads&): the scale every gradient is read with; 1 otherwise.
  float grad_scale() const noexcept { return grad_scale_; }
  /// Inside step(const StepGrads&): StepGrads::external16's pointers for `group`, or empty.
  std::span<const std::uint16_t* const> external_grads16(const ParamGroup& group) const;
  DType external16_dtype() const noexcept { return external16_dtype_; }
  /// Inside step(const StepGrads&): StepGrads::param_out's pointers for `group`, or empty.
  std::span<std::uint16_t* const> param_out(const ParamGroup& group) const;

 private:
  void run_step();
  // validate() on every group's current options.
  void validate_groups() const;
  void stage_step_grads();
  // The averaging update of the next step; counts it.
  AveragingCall plan_averaging();
  // The averaging pass over the tensors of `group` step_group did not average.
  void average_rest(ParamGroup& group);

  GroupOptions defaults_;
  std::deque<ParamGroup> groups_;
  Isa isa_;
  std::unique_ptr<detail::Executor> executor_;
  std::unique_ptr<detail::ToolScratch> tools_scratch_;
  bool skip_if_nonfinite_ = false;
  bool flush_subnormal_state_ = true;
  bool last_step_skipped_ = false;
  bool grads_known_finite_ = false;
  std::span<const float* const> external_grads_{};
  std::span<const std::uint16_t* const> external16_{};
  DType external16_dtype_ = DType::bf16;
  std::span<std::uint16_t* const> param_out_{};
  float grad_scale_ = 1.0f;
  AveragingOptions averaging_;
  std::int64_t averaging_step_ = 0;
  std::int64_t n_averaged_ = 0;
  AveragingCall averaging_call_;
};

}  // namespace v1
}  // namespace simdoptim
