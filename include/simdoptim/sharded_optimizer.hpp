#pragma once
/// Optimizer state sharded over the ranks of an MPI communicator (ZeRO stage 2; torch:
/// torch.distributed.optim.ZeroRedundancyOptimizer). Needs MPI: link simdoptim::sharded.
#include <mpi.h>

#include <cstddef>
#include <memory>
#include <string>

#include "simdoptim/optimizer.hpp"

namespace simdoptim {
namespace detail {
struct ShardedState;
}

inline namespace v1 {

/// How ShardedOptimizer splits its communication.
struct ShardedOptions {
  /// The most elements of one rank's shard in one bucket: gradients of a bucket are
  /// reduce-scattered, its shard stepped and its parameters all-gathered while the next bucket's
  /// gradients are in flight. Rounded up to 16 elements; at least 16.
  std::size_t bucket_elements = std::size_t{1} << 20;
};

/// One rank's contiguous slice [begin, end) of a group's arena, in elements.
struct ShardRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};

/// Bytes one rank moves per step (the payload, whatever algorithm MPI picks).
struct ShardedTraffic {
  /// Gradient elements sent to other ranks (reduce-scatter), times 4.
  std::size_t reduce_bytes_sent = 0;
  /// Parameter elements received from other ranks (all-gather), times 4.
  std::size_t gather_bytes_received = 0;
};

/// Wraps `optimizer`, an elementwise optimizer (SGD, Adam, AdamW, Lion, ...) whose param groups
/// every rank of `comm` built identically, so that each rank keeps optimizer state only for its
/// shard: every group's arena is cut into comm-size contiguous shards, 64-byte aligned and
/// balanced to within 16 elements (256 in a group with q8 state, so that no quantization block
/// straddles two shards), rank r owning shard r. The shard keeps each group's StorageOptions
/// (16-bit parameters and gradients move in 16 bits, the average of 16-bit gradients is rounded
/// to their format; with master weights, `optimizer`'s master weights are current in this rank's
/// shard only); stochastic rounding is refused with std::invalid_argument (docs/distributed.md).
///
/// `optimizer` stays the engine's view of the model: its parameters, gradients and group
/// options (schedulers set lr on it, as before). Its own state is never allocated. One step:
///   1. gradients: rank r receives every rank's gradients of shard r and averages them in rank
///      order, avg = ((g_0 + g_1) + ... + g_{K-1}) / K in float32 (MPI_Ialltoallv and a local
///      sum rather than MPI_Reduce_scatter, whose order is the implementation's), so the result
///      does not depend on the MPI library, its algorithm or the rank count's factors;
///   2. the shard is stepped by the same kernels as a single-process optimizer;
///   3. parameters are all-gathered (MPI_Iallgatherv) into every rank's arena;
/// in buckets, the next bucket's gradients travelling while one is stepped. The parameters are
/// then bitwise equal to a single-process optimizer stepped with `avg`, at any rank count.
///
/// Optimizers that need whole-tensor quantities (LAMB and LARS trust ratios, Adafactor's
/// factored statistics, LBFGS) are refused with std::invalid_argument, and so is
/// skip_if_nonfinite; clip_grad_norm_ on `optimizer` before step() would clip each rank's local
/// gradients, not the average, so it is not a sharded equivalent.
///
/// Every member function is collective over `comm` unless it says otherwise; the engine owns
/// MPI_Init and MPI_Finalize and destroys this object before MPI_Finalize.
class ShardedOptimizer {
 public:
  /// Checks on every rank that all ranks passed the same optimizer and param groups (names,
  /// shapes, order) and throws std::invalid_argument on every rank, naming the ranks that
  /// differ, when not; refuses non-elementwise optimizers. `optimizer` must outlive this object
  /// and keep its groups (add no group afterwards). `comm` is duplicated.
  ShardedOptimizer(Optimizer& optimizer, MPI_Comm comm, ShardedOptions options = {});
  ~ShardedOptimizer();
  ShardedOptimizer(const ShardedOptimizer&) = delete;
  ShardedOptimizer& operator=(const ShardedOptimizer&) = delete;

  /// The wrapped optimizer (parameters, gradients, options). Not collective.
  Optimizer& optimizer() noexcept;
  /// The optimizer that holds this rank's shard: one param group per bucket, one tensor per
  /// piece of a tensor in it ("name[begin:end)" in tensor elements). Not collective.
  Optimizer& shard_optimizer() noexcept;

  /// One step over the tensors that have a gradient (the same tensors on every rank). Throws
  /// std::invalid_argument on every rank when any rank's options are invalid or differ, or the
  /// gradients present differ.
  void step();

  /// This rank and the communicator's size. Not collective.
  int rank() const noexcept;
  int world_size() const noexcept;
  /// This rank's shard of group `group`. Not collective.
  ShardRange shard(std::size_t group) const;
  /// Bytes of optimizer state this rank holds (its shard's state arrays). Not collective.
  std::size_t state_bytes() const;
  /// What one step sends and receives on this rank. Not collective.
  ShardedTraffic traffic() const noexcept;

  /// Gathers the whole state on rank 0, which writes it to `path` (atomically) in the
  /// single-process checkpoint format (docs/checkpoint_format.md): a single-process optimizer
  /// or a ShardedOptimizer of any rank count loads it. Parameters included, arrays as the
  /// groups store them: the file of a single process of the same storage. The bytes move in
  /// messages of at most 1 GiB (SIMDOPTIM_MPI_MESSAGE_BYTES lowers it), so any size goes.
  void save(const std::string& path);
  /// Rank 0 reads `path` (a checkpoint of this optimizer's parameters, from any rank count or a
  /// single process, of any storage: converted to the groups' as load() converts) and every rank
  /// takes its shard of it, and the parameters and options. Throws CheckpointError on every
  /// rank, nothing changed, when it does not match.
  void load(const std::string& path);
  /// Each rank writes its shard alone (its pieces' state and parameters, and the group options)
  /// to `prefix` + ".rank<r>-of-<K>", atomically, in the single-process format of
  /// shard_optimizer(): nothing is gathered. Resuming needs the same rank count and bucket size
  /// (load_shards); save() writes the file that any rank count loads.
  void save_shards(const std::string& prefix);
  /// Every rank reads its file of save_shards(prefix) and restores its shard, then the
  /// parameters (all-gathered) and the group options. Throws CheckpointError on every rank,
  /// nothing changed, when any rank's file is unreadable or holds other pieces (another rank
  /// count or bucket size).
  void load_shards(const std::string& prefix);

 private:
  std::unique_ptr<detail::ShardedState> s_;
};

}  // namespace v1
}  // namespace simdoptim
