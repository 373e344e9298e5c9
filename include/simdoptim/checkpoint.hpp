#pragma once
/// Checkpoints: an optimizer's state in memory (torch: optimizer.state_dict()), and the
/// versioned, checksummed binary file format of docs/checkpoint_format.md for optimizers and
/// schedulers, written atomically.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "simdoptim/group_options.hpp"
#include "simdoptim/lr_scheduler/scheduler.hpp"
#include "simdoptim/optimizer.hpp"
#include "simdoptim/storage_options.hpp"
#include "simdoptim/types.hpp"

namespace simdoptim {
inline namespace v1 {

class ReduceLROnPlateau;

/// One state array of one tensor (torch: state[p]['exp_avg']), as its group stores it. Only the
/// members of `dtype` are set: f32 `data`; bf16 and f16 `bits16`; q8 `codes` (one per element)
/// and `scales` (one per 256 elements), `non_negative` saying the codes are companded
/// (docs/precision.md). values() gives any of them as fp32.
struct StateArray {
  std::string name;
  DType dtype = DType::f32;
  std::vector<float> data;
  std::vector<std::uint16_t> bits16 = {};
  std::vector<std::uint8_t> codes = {};
  std::vector<float> scales = {};
  bool non_negative = false;
  bool operator==(const StateArray&) const = default;
};

/// The number of elements of `array` in its dtype.
std::size_t element_count(const StateArray& array) noexcept;
/// The values of `array` as fp32: 16-bit ones widened (exactly), q8 ones dequantized.
std::vector<float> values(const StateArray& array);
/// `array` stored as `dtype`: fp32 and 16-bit values rounded to nearest-even, quantized block by
/// block for q8 (companded when `non_negative`), q8 dequantized first. The same dtype (and, for
/// q8, companding) is a copy. Throws std::invalid_argument for a dtype a state cannot have.
StateArray convert(const StateArray& array, DType dtype, bool non_negative = false);

/// One tensor's entry (torch: state[p], plus the parameter's name, shape and dtype, which
/// torch keeps in the model; here they identify the tensor).
struct TensorStateDict {
  std::string name;
  Shape shape;
  /// The parameter's dtype (its group's StorageOptions::param).
  DType dtype = DType::f32;
  /// torch's state[p]['step'].
  std::int64_t step = 0;
  /// Whether the optimizer created state for the tensor (torch: `len(state[p]) > 0`).
  bool initialized = false;
  /// The tensor's state arrays; empty unless `initialized`.
  std::vector<StateArray> arrays;
  /// Scalar state the optimizer keeps outside its arenas (Optimizer::save_tensor_scalars).
  std::vector<std::pair<std::string, double>> scalars;
  /// The parameter's values, when the state dict includes parameters: fp32 parameters, or the
  /// fp32 master weights of 16-bit ones.
  std::optional<std::vector<float>> param;
  /// The bits of 16-bit parameters (of `dtype`) kept without master weights, instead of `param`.
  std::optional<std::vector<std::uint16_t>> param16;
  /// The averaged parameter (Optimizer::set_averaging), when the optimizer keeps one.
  std::optional<std::vector<float>> averaged;
  bool operator==(const TensorStateDict&) const = default;
};

/// One param group (torch: an entry of state_dict()['param_groups']).
struct GroupStateDict {
  GroupOptions options;
  std::vector<TensorStateDict> tensors;
  /// How the group stores its arrays; absent when everything is fp32 (StorageOptions{}) and in
  /// files of format versions 1 and 2, which do not record it. Informational on load: the
  /// optimizer's own storage decides, arrays of another dtype are converted
  /// (docs/checkpoint_format.md).
  std::optional<StorageOptions> storage;
  bool operator==(const GroupStateDict&) const = default;
};

/// The counts of weight averaging (Optimizer::averaging_step, n_averaged).
struct AveragingCounts {
  std::int64_t step = 0;
  std::int64_t n_averaged = 0;
  bool operator==(const AveragingCounts&) const = default;
};

/// An optimizer's whole state (torch: optimizer.state_dict(), with each tensor's state nested
/// in its group instead of keyed by index). Values compare with ==, so NaN != NaN.
struct OptimizerStateDict {
  /// Optimizer::name() of the optimizer that produced it.
  std::string optimizer;
  std::vector<GroupStateDict> param_groups;
  /// Present when the optimizer averages its parameters; the averages are each tensor's
  /// `averaged`. Averaging's options are not saved: set_averaging them before loading.
  std::optional<AveragingCounts> averaging;
  bool operator==(const OptimizerStateDict&) const = default;
};

/// What state_dict() copies.
struct StateDictOptions {
  /// Also copy the parameters. torch's optimizer state_dict does not (the model holds them);
  /// here the optimizer's arenas are the parameters' storage, and resuming exactly needs them,
  /// so they are included by default.
  bool include_params = true;
  /// Copy each array as its group stores it (TensorStateDict::dtype the parameters' dtype,
  /// 16-bit parameters as `param16`, state in the group's state dtype: q8 codes and scales,
  /// 16-bit bits) instead of as fp32 values (16-bit widened, q8 dequantized; dtypes f32).
  /// save() always does.
  bool as_stored = false;
};

/// How load_state_dict() matches a state dict to the optimizer.
struct LoadOptions {
  /// true: the groups, and each group's tensors in order, must match the optimizer's exactly
  /// (names, shapes, dtypes, counts). false: tensors are matched by name wherever they are (torch's
  /// strict=False); names found on one side only are reported, not an error, and group i's
  /// options are restored for every group index both sides have.
  bool strict = true;
  /// Restore the parameters when the state dict has them.
  bool load_params = true;
};

/// What a non-strict load could not match (torch: missing_keys / unexpected_keys).
struct LoadReport {
  /// Parameters of the optimizer that the state dict does not have (their state is unchanged).
  std::vector<std::string> missing;
  /// Tensors of the state dict that the optimizer does not have (ignored).
  std::vector<std::string> unexpected;
};

/// Any failure to read or apply a checkpoint: the message names the file or section and the
/// problem. The optimizer or scheduler is left exactly as it was.
class CheckpointError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Copies the optimizer's state: every group's options and, for every tensor, its step count,
/// state arrays, extra scalars and (optionally) parameter values. Does not modify `optimizer`
/// (non-const because arena access is). torch: optimizer.state_dict().
OptimizerStateDict state_dict(Optimizer& optimizer, const StateDictOptions& options = {});

/// Restores `state` into `optimizer` (torch: optimizer.load_state_dict()). Everything is checked
/// first (optimizer type, group and tensor counts, names, shapes, dtypes, array sizes, option
/// names and values, scalar state names); on any mismatch CheckpointError is thrown and the
/// optimizer is unchanged. Gradients are never touched. Tensors the state has without state
/// arrays get zeroed state, as a fresh optimizer has.
LoadReport load_state_dict(Optimizer& optimizer, const OptimizerStateDict& state,
                           const LoadOptions& options = {});

/// The checkpoint file bytes of `state` (docs/checkpoint_format.md).
std::vector<std::byte> encode_checkpoint(const OptimizerStateDict& state);
/// Parses optimizer checkpoint bytes, checking structure and every CRC; throws CheckpointError.
OptimizerStateDict decode_checkpoint(std::span<const std::byte> bytes);
/// The checkpoint file bytes of a scheduler state.
std::vector<std::byte> encode_scheduler_checkpoint(const SchedulerState& state);
/// Parses scheduler checkpoint bytes; throws CheckpointError.
SchedulerState decode_scheduler_checkpoint(std::span<const std::byte> bytes);

/// Writes state_dict(optimizer, options), arrays as stored (StateDictOptions::as_stored), to
/// `path` atomically: a temporary file in the same
/// folder, fsync, rename over `path`, fsync of the folder. A crash leaves the old file or the
/// new one, never a torn one. Throws std::runtime_error on an I/O error.
void save(Optimizer& optimizer, const std::string& path, const StateDictOptions& options = {});
/// Writes `state` to `path` atomically, as save(Optimizer&) (for a state assembled elsewhere,
/// e.g. gathered from the shards of a ShardedOptimizer).
void save(const OptimizerStateDict& state, const std::string& path);
/// Reads `path` and load_state_dict()s it; throws CheckpointError (optimizer unchanged) when the
/// file is unreadable, truncated, corrupted, of a newer format version, of another optimizer
/// type or does not match the optimizer's parameters.
LoadReport load(Optimizer& optimizer, const std::string& path, const LoadOptions& options = {});
/// Reads an optimizer checkpoint file into memory (checks as load()).
OptimizerStateDict read_checkpoint(const std::string& path);

/// Writes scheduler.state_dict() to `path`, atomically as save(Optimizer&).
void save(const Scheduler& scheduler, const std::string& path);
/// Reads `path` and restores it into `scheduler` (which must be of the same kind, built with the
/// same arguments); throws CheckpointError, scheduler unchanged, on any problem.
void load(Scheduler& scheduler, const std::string& path);
/// save() for ReduceLROnPlateau (not a Scheduler, as in torch).
void save(const ReduceLROnPlateau& scheduler, const std::string& path);
/// load() for ReduceLROnPlateau.
void load(ReduceLROnPlateau& scheduler, const std::string& path);

}  // namespace v1
}  // namespace simdoptim
