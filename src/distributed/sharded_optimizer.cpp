#include "simdoptim/sharded_optimizer.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "distributed/sharded_state.hpp"
#include "simdoptim/dtype_convert.hpp"
#include "simdoptim/elementwise_optimizer.hpp"
#include "simdoptim/optimizer_registry.hpp"

namespace simdoptim {
namespace detail {
namespace {

constexpr std::size_t kUnit = ParamGroup::kTensorAlign;

int to_units(std::size_t elements) {
  if (elements / kUnit > static_cast<std::size_t>(INT_MAX))
    throw std::invalid_argument("ShardedOptimizer: a group of " + std::to_string(elements) +
                                " elements is beyond MPI's int counts");
  return static_cast<int>(elements / kUnit);
}

void add_string(Fingerprint& f, const std::string& s) {
  f.add(s.size());
  f.add(s.data(), s.size());
}

// What every rank must have the same of: the optimizer, its groups' tensors, the buckets.
std::uint64_t layout_fingerprint(Optimizer& full, std::size_t bucket_elements) {
  Fingerprint f;
  add_string(f, std::string(full.name()));
  f.add(bucket_elements);
  for (const ParamGroup& g : full.param_groups()) {
    f.add(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) {
      add_string(f, g.info(i).name);
      f.add(g.info(i).shape.size());
      for (std::int64_t d : g.info(i).shape) f.add(d);
    }
  }
  return f.value;
}

// What every rank must have the same of at each step: options and present gradients.
std::uint64_t step_fingerprint(Optimizer& full) {
  Fingerprint f;
  for (ParamGroup& g : full.param_groups()) {
    for (const auto& [key, value] : g.options().items()) {
      add_string(f, key);
      f.add(value);
    }
    for (std::size_t i = 0; i < g.size(); ++i) f.add(g.has_grad(i));
  }
  return f.value;
}

std::size_t tensor_count(Optimizer& full) {
  std::size_t n = 0;
  for (const ParamGroup& g : full.param_groups()) n += g.size();
  return n;
}

// Throws on every rank unless every rank passed the same layout.
void check_same_layout(Optimizer& full, std::size_t bucket_elements, MPI_Comm comm, int size) {
  const std::uint64_t mine[2] = {layout_fingerprint(full, bucket_elements), tensor_count(full)};
  std::vector<std::uint64_t> all(2 * static_cast<std::size_t>(size));
  MPI_Allgather(mine, 2, MPI_UINT64_T, all.data(), 2, MPI_UINT64_T, comm);
  std::string differ;
  for (int r = 1; r < size; ++r)
    if (all[2 * r] != all[0])
      differ += " rank " + std::to_string(r) + " (" + std::to_string(all[2 * r + 1]) + " tensors)";
  if (!differ.empty())
    throw std::invalid_argument(
        "ShardedOptimizer: the ranks passed different optimizers or parameter lists (names, "
        "shapes, order, bucket size): rank 0 (" +
        std::to_string(all[1]) + " tensors) differs from" + differ);
}

// The sum of every rank's copy in rank order (rank r's at copies + r * n, this rank's at
// `own`), divided by the rank count: the documented average, element by element, independent
// of how MPI moved the data.
void average(const float* copies, const float* own, int me, std::size_t n, int ranks,
             float* out) noexcept {
  auto copy_of = [&](int r) { return r == me ? own : copies + static_cast<std::size_t>(r) * n; };
  std::memcpy(out, copy_of(0), n * sizeof(float));
  for (int r = 1; r < ranks; ++r) {
    const float* x = copy_of(r);
    for (std::size_t j = 0; j < n; ++j) out[j] = out[j] + x[j];
  }
  const auto k = static_cast<float>(ranks);
  for (std::size_t j = 0; j < n; ++j) out[j] = out[j] / k;
}

// `average` over 16-bit values of `dtype`: each widened, the same float32 sum and division,
// the average rounded to nearest-even into `dtype`.
void average16(const std::uint16_t* copies, const std::uint16_t* own, int me, std::size_t n,
               int ranks, DType dtype, std::uint16_t* out) {
  auto copy_of = [&](int r) { return r == me ? own : copies + static_cast<std::size_t>(r) * n; };
  const auto k = static_cast<float>(ranks);
  for (std::size_t j = 0; j < n; ++j) {
    float sum = from_bits16(dtype, copy_of(0)[j]);
    for (int r = 1; r < ranks; ++r) sum = sum + from_bits16(dtype, copy_of(r)[j]);
    out[j] = to_bits16(dtype, sum / k);
  }
}

// The array the collectives move of a group's gradients or parameters, in its storage.
void* grads_of(ParamGroup& g) {
  if (g.storage().grad == DType::f32) return g.grad_arena().data();
  return g.grad16_arena().data();
}
void* params_of(ParamGroup& g) {
  if (g.storage().param == DType::f32) return g.param_arena().data();
  return g.param16_arena().data();
}

std::size_t bytes_of(DType dtype) {
  return dtype == DType::f32 ? sizeof(float) : sizeof(std::uint16_t);
}

}  // namespace

void Fingerprint::add(const void* data, std::size_t bytes) noexcept {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) value = (value ^ p[i]) * 1099511628211ull;
}

ShardedState::ShardedState(Optimizer& full_optimizer, MPI_Comm parent, ShardedOptions opts)
    : full(full_optimizer), options(opts) {
  options.bucket_elements = std::max(kUnit, (options.bucket_elements + kUnit - 1) / kUnit * kUnit);
  MPI_Comm_dup(parent, &comm);
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  MPI_Type_contiguous(static_cast<int>(kUnit), MPI_FLOAT, &unit);
  MPI_Type_commit(&unit);
  MPI_Type_contiguous(static_cast<int>(kUnit), MPI_UINT16_T, &unit16);
  MPI_Type_commit(&unit16);
  try {
    build();
  } catch (...) {
    release();  // every rank throws here alike, so the collective free matches
    throw;
  }
}

void ShardedState::build() {
  check_same_layout(full, options.bucket_elements, comm, size);
  if (dynamic_cast<ElementwiseOptimizer*>(&full) == nullptr)
    throw std::invalid_argument(
        "ShardedOptimizer: '" + std::string(full.name()) +
        "' needs whole-tensor quantities (trust ratios, factored statistics or a line search) "
        "that a shard does not hold; sharding takes the elementwise optimizers");

  for (const ParamGroup& g : full.param_groups())
    if (g.storage().stochastic_rounding)
      throw std::invalid_argument(
          "ShardedOptimizer: a group rounds its bf16 parameters stochastically, from each "
          "element's index in the group's arena, which a shard does not have; sharding takes "
          "nearest-even rounding (or master weights)");
  layout = make_shard_layout(full.param_groups(), size, options.bucket_elements);
  shard = make_optimizer(full.name(), RuntimeOptions{full.isa(), full.num_threads()});
  const auto me = static_cast<std::size_t>(rank);
  std::size_t largest = 0;
  for (const Bucket& b : layout.buckets) {
    ParamGroup& group = full.param_groups()[b.group];
    std::vector<Piece> mine = pieces_in(group, b.begin[me], b.begin[me] + b.content[me]);
    if (mine.empty()) {
      shard_group.push_back(-1);
    } else {
      std::vector<ParamSpec> specs;
      for (const Piece& p : mine)
        specs.push_back({piece_name(group, p), {static_cast<std::int64_t>(p.end - p.begin)}});
      GroupOptions overrides;
      for (const auto& [key, value] : group.options().items()) overrides.set(key, value);
      shard_group.push_back(static_cast<std::ptrdiff_t>(shard->param_groups().size()));
      // The same storage: each piece's state is stored as the full group's would be.
      shard->add_param_group(std::move(specs), overrides, group.storage());
    }
    pieces.push_back(std::move(mine));
    BucketCounts c;
    c.own = to_units(b.content[me]);
    for (int r = 0; r < size; ++r) {
      c.counts.push_back(to_units(b.content[r]));
      c.displs.push_back(to_units(b.begin[r]));
      c.send_counts.push_back(r == rank ? 0 : c.counts.back());
      c.recv_counts.push_back(r == rank ? 0 : c.own);
      c.recv_displs.push_back(r * c.own);
    }
    counts.push_back(std::move(c));
    largest = std::max(largest, b.content[me]);
  }
  for (auto& slot : slots) slot.resize(largest * static_cast<std::size_t>(size));
  reduce_requests.assign(layout.buckets.size(), MPI_REQUEST_NULL);
  gather_requests.assign(layout.buckets.size(), MPI_REQUEST_NULL);
}

void ShardedState::post_param_gather(std::size_t b, MPI_Request* request) {
  // Without a part of its own, a rank sends nothing: MPI_IN_PLACE names its empty slot.
  const void* send = MPI_IN_PLACE;
  if (shard_group[b] >= 0)
    send = params_of(shard->param_groups()[static_cast<std::size_t>(shard_group[b])]);
  const BucketCounts& c = counts[b];
  ParamGroup& group = full.param_groups()[layout.buckets[b].group];
  const MPI_Datatype type = unit_of(group.storage().param);
  MPI_Iallgatherv(send, c.own, type, params_of(group), c.counts.data(), c.displs.data(), type, comm,
                  request);
}

ShardedState::~ShardedState() {
  release();
}

void ShardedState::release() noexcept {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;  // too late to free; the engine broke the documented order
  if (unit != MPI_DATATYPE_NULL) MPI_Type_free(&unit);
  if (unit16 != MPI_DATATYPE_NULL) MPI_Type_free(&unit16);
  if (comm != MPI_COMM_NULL) MPI_Comm_free(&comm);
}

}  // namespace detail

inline namespace v1 {

ShardedOptimizer::ShardedOptimizer(Optimizer& optimizer, MPI_Comm comm, ShardedOptions options)
    : s_(std::make_unique<detail::ShardedState>(optimizer, comm, options)) {}

ShardedOptimizer::~ShardedOptimizer() = default;

Optimizer& ShardedOptimizer::optimizer() noexcept {
  return s_->full;
}
Optimizer& ShardedOptimizer::shard_optimizer() noexcept {
  return *s_->shard;
}
int ShardedOptimizer::rank() const noexcept {
  return s_->rank;
}
int ShardedOptimizer::world_size() const noexcept {
  return s_->size;
}

ShardRange ShardedOptimizer::shard(std::size_t group) const {
  if (group >= s_->full.param_groups().size())
    throw std::out_of_range("ShardedOptimizer::shard: no group " + std::to_string(group));
  return s_->layout
      .shards[group * static_cast<std::size_t>(s_->size) + static_cast<std::size_t>(s_->rank)];
}

std::size_t ShardedOptimizer::state_bytes() const {
  std::size_t bytes = 0;
  for (const ParamGroup& g : s_->shard->param_groups()) {
    const std::size_t n = g.padded_numel();
    const DType d = g.storage().state;
    // q8: a byte per element and an fp32 scale per block.
    const std::size_t array = d == DType::q8    ? n + n / ParamGroup::kQ8Align * sizeof(float)
                              : d == DType::f32 ? n * sizeof(float)
                                                : n * sizeof(std::uint16_t);
    bytes += g.state_names().size() * array;
  }
  return bytes;
}

ShardedTraffic ShardedOptimizer::traffic() const noexcept {
  ShardedTraffic t;
  for (const detail::Bucket& b : s_->layout.buckets) {
    const StorageOptions& storage = s_->full.param_groups()[b.group].storage();
    for (int r = 0; r < s_->size; ++r)
      if (r != s_->rank) {
        t.reduce_bytes_sent += b.content[r] * detail::bytes_of(storage.grad);
        t.gather_bytes_received += b.content[r] * detail::bytes_of(storage.param);
      }
  }
  return t;
}

void ShardedOptimizer::step() {
  detail::ShardedState& s = *s_;
  Optimizer& full = s.full;
  // Agree before any data moves, so that a rank that cannot step fails every rank, not a hang.
  std::string error;
  try {
    if (full.skip_if_nonfinite())
      throw std::invalid_argument("skip_if_nonfinite is not supported sharded");
    for (const ParamGroup& g : full.param_groups()) full.validate(g.options());
  } catch (const std::exception& e) {
    error = e.what();
  }
  const std::uint64_t fp = detail::step_fingerprint(full);
  const std::uint64_t mine[3] = {error.empty() ? 0 : static_cast<std::uint64_t>(s.rank) + 1, fp,
                                 ~fp};
  std::uint64_t all[3];
  MPI_Allreduce(mine, all, 3, MPI_UINT64_T, MPI_MAX, s.comm);
  if (all[0] != 0)
    throw std::invalid_argument(
        "ShardedOptimizer::step: " +
        (error.empty() ? "rank " + std::to_string(all[0] - 1) + " cannot step" : error));
  if (all[1] != ~all[2])
    throw std::invalid_argument(
        "ShardedOptimizer::step: the ranks' group options or present gradients differ");

  Optimizer& shard = *s.shard;
  shard.set_flush_subnormal_state(full.flush_subnormal_state());
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.shard_group[b] < 0) continue;
    ParamGroup& inner = shard.param_groups()[static_cast<std::size_t>(s.shard_group[b])];
    inner.options() = full.param_groups()[s.layout.buckets[b].group].options();
    for (TensorState& t : inner.tensor_states()) t.has_grad = false;
  }

  const std::size_t buckets = s.layout.buckets.size();
  const auto me = static_cast<std::size_t>(s.rank);
  auto post_reduce = [&](std::size_t b) {
    const detail::BucketCounts& c = s.counts[b];
    ParamGroup& group = full.param_groups()[s.layout.buckets[b].group];
    const MPI_Datatype type = s.unit_of(group.storage().grad);
    MPI_Ialltoallv(detail::grads_of(group), c.send_counts.data(), c.displs.data(), type,
                   s.slots[b % 2].data(), c.recv_counts.data(), c.recv_displs.data(), type, s.comm,
                   &s.reduce_requests[b]);
  };
  for (std::size_t b = 0; b < std::min<std::size_t>(2, buckets); ++b) post_reduce(b);
  for (std::size_t b = 0; b < buckets; ++b) {
    const detail::Bucket& bucket = s.layout.buckets[b];
    ParamGroup& group = full.param_groups()[bucket.group];
    MPI_Wait(&s.reduce_requests[b], MPI_STATUS_IGNORE);
    const std::size_t n = bucket.content[me];
    if (s.shard_group[b] >= 0) {
      ParamGroup& inner = shard.param_groups()[static_cast<std::size_t>(s.shard_group[b])];
      const StorageOptions& storage = group.storage();
      const std::size_t at = bucket.begin[me];
      if (storage.grad == DType::f32)
        detail::average(s.slots[b % 2].data(), group.grad_arena().data() + at, s.rank, n, s.size,
                        inner.grad_arena().data());
      else
        detail::average16(reinterpret_cast<const std::uint16_t*>(s.slots[b % 2].data()),
                          group.grad16_arena().data() + at, s.rank, n, s.size, storage.grad,
                          inner.grad16_arena().data());
      // The engine may have written the parameters (or master weights) since the last step;
      // with master weights the step writes the 16-bit copy from them.
      const bool fp32 = storage.param == DType::f32 || storage.master_weights;
      if (fp32)
        std::memcpy(inner.param_arena().data(), group.param_arena().data() + at, n * sizeof(float));
      else
        std::memcpy(inner.param16_arena().data(), group.param16_arena().data() + at,
                    n * sizeof(std::uint16_t));
      const std::vector<detail::Piece>& pieces = s.pieces[b];
      for (std::size_t i = 0; i < pieces.size(); ++i)
        inner.set_has_grad(i, group.has_grad(pieces[i].tensor));
      if (b + 2 < buckets) post_reduce(b + 2);
      shard.step();
      for (std::size_t i = 0; i < pieces.size(); ++i) inner.set_has_grad(i, false);
      // The full group's master weights stay current in this rank's shard (the 16-bit
      // parameters are gathered everywhere).
      if (storage.master_weights)
        std::memcpy(group.param_arena().data() + at, inner.param_arena().data(), n * sizeof(float));
    } else if (b + 2 < buckets) {
      post_reduce(b + 2);
    }
    s.post_param_gather(b, &s.gather_requests[b]);
  }
  MPI_Waitall(static_cast<int>(buckets), s.gather_requests.data(), MPI_STATUSES_IGNORE);
}

}  // namespace v1
}  // namespace simdoptim
