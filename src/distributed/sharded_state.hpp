#pragma once
// What a ShardedOptimizer holds: the communicator, the layout, and the optimizer of its shard.
#include <mpi.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "distributed/shard_layout.hpp"
#include "simdoptim/optimizer.hpp"

namespace simdoptim::detail {

// The MPI argument arrays of one bucket's collectives, in 16-float units; they must live until
// the non-blocking calls complete.
struct BucketCounts {
  int own = 0;              // this rank's content
  std::vector<int> counts;  // per rank: content
  std::vector<int> displs;  // per rank: begin
  // The gradients' all-to-all, without this rank's own part (read in place): 0 for itself.
  std::vector<int> send_counts;  // per rank: content
  std::vector<int> recv_counts;  // per rank: this rank's content
  std::vector<int> recv_displs;  // per rank: rank * this rank's content
};

struct ShardedState {
  ShardedState(Optimizer& full, MPI_Comm comm, ShardedOptions options);
  ~ShardedState();

  // The layout, the shard optimizer and the collectives' arrays (the constructor's body).
  void build();
  // Frees the communicator and the datatypes.
  void release() noexcept;

  // The datatype of one 16-element unit of an array of `dtype` (f32, bf16 or f16).
  MPI_Datatype unit_of(DType dtype) const noexcept { return dtype == DType::f32 ? unit : unit16; }

  // Starts bringing every rank's parameters of bucket `b` from its shard into the full arenas
  // (the 16-bit parameters of a group with 16-bit parameters, master weights or not).
  void post_param_gather(std::size_t b, MPI_Request* request);

  Optimizer& full;
  ShardedOptions options;
  MPI_Comm comm = MPI_COMM_NULL;
  MPI_Datatype unit = MPI_DATATYPE_NULL;    // 16 contiguous floats (64 bytes)
  MPI_Datatype unit16 = MPI_DATATYPE_NULL;  // 16 contiguous 16-bit values (bf16, fp16)
  int rank = 0;
  int size = 1;
  ShardLayout layout;
  std::unique_ptr<Optimizer> shard;
  // Per bucket: its group in `shard` (or -1 when this rank's part of it holds no tensor), this
  // rank's pieces, and the collectives' arrays.
  std::vector<std::ptrdiff_t> shard_group;
  std::vector<std::vector<Piece>> pieces;
  std::vector<BucketCounts> counts;
  // Two buckets' gradients in flight: every rank's copy of this rank's part of a bucket.
  std::array<std::vector<float>, 2> slots;
  std::vector<MPI_Request> reduce_requests;
  std::vector<MPI_Request> gather_requests;
};

// FNV-1a, to compare layouts and options across ranks with one small collective.
struct Fingerprint {
  std::uint64_t value = 14695981039346656037ull;
  void add(const void* data, std::size_t bytes) noexcept;
  template <class T>
  void add(const T& x) noexcept {
    add(&x, sizeof x);
  }
};

}  // namespace simdoptim::detail
