// ShardedOptimizer::save and load: the shards gathered into one single-process checkpoint, and
// a checkpoint of any rank count cut into this rank count's shards.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "distributed/sharded_state.hpp"
#include "environment.hpp"
#include "kernels/quant8.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/optimizer_registry.hpp"
#include "simdoptim/sharded_optimizer.hpp"

namespace simdoptim {
namespace detail {
namespace {

// Rank 0's error message (empty: none) on every rank.
std::string broadcast_error(const std::string& error, MPI_Comm comm) {
  std::uint64_t n = error.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  std::string out = error;  // rank 0 sends it, the others receive into it
  out.resize(n);
  MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  return out;
}

// The most bytes one MPI call of save or load moves (MPI counts are ints): 1 GiB, or
// SIMDOPTIM_MPI_MESSAGE_BYTES as rank 0 reads it, the same on every rank; a bad value throws
// on every rank.
std::size_t message_bytes(MPI_Comm comm, int rank) {
  constexpr std::uint64_t kMost = std::uint64_t{1} << 30;
  std::uint64_t n = kMost;
  std::string error;
  if (rank == 0) try {
      n = positive_from_env("SIMDOPTIM_MPI_MESSAGE_BYTES", kMost).value_or(kMost);
    } catch (const std::invalid_argument& e) {
      error = e.what();
    }
  error = broadcast_error(error, comm);
  if (!error.empty()) throw std::invalid_argument(error);
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, comm);
  return static_cast<std::size_t>(n);
}

// bytes[0, n) of rank 0 on every rank, in broadcasts of at most `chunk` bytes.
void broadcast_bytes(std::byte* bytes, std::size_t n, std::size_t chunk, MPI_Comm comm) {
  for (std::size_t at = 0; at < n; at += chunk)
    MPI_Bcast(bytes + at, static_cast<int>(std::min(chunk, n - at)), MPI_BYTE, 0, comm);
}

// Every rank's `mine` concatenated in rank order on rank 0 (empty elsewhere), in messages of at
// most `chunk` bytes; sizes[r] is rank r's size on every rank.
std::vector<std::byte> gather_bytes(const std::vector<std::byte>& mine,
                                    const std::vector<std::uint64_t>& sizes, std::size_t chunk,
                                    int rank, MPI_Comm comm) {
  constexpr int kTag = 7201;
  std::vector<std::byte> all;
  if (rank != 0) {
    for (std::size_t at = 0; at < mine.size(); at += chunk)
      MPI_Send(mine.data() + at, static_cast<int>(std::min(chunk, mine.size() - at)), MPI_BYTE, 0,
               kTag, comm);
    return all;
  }
  std::uint64_t total = 0;
  for (std::uint64_t n : sizes) total += n;
  all.resize(total);
  std::memcpy(all.data(), mine.data(), mine.size());
  std::size_t offset = mine.size();
  for (std::size_t r = 1; r < sizes.size(); ++r) {
    for (std::size_t at = 0; at < sizes[r]; at += chunk)
      MPI_Recv(all.data() + offset + at,
               static_cast<int>(std::min<std::uint64_t>(chunk, sizes[r] - at)), MPI_BYTE,
               static_cast<int>(r), kTag, comm, MPI_STATUS_IGNORE);
    offset += sizes[r];
  }
  return all;
}

std::size_t blocks_of(std::size_t n) {
  return (n + kQuantBlock - 1) / kQuantBlock;
}

[[noreturn]] void mismatch(const std::string& why) {
  throw CheckpointError("ShardedOptimizer::load: " + why);
}

// Throws (on every rank alike: all hold the same state and layout) unless `state` has exactly
// the wrapped optimizer's tensors.
void check_matches(Optimizer& full, const OptimizerStateDict& state) {
  if (state.optimizer != full.name())
    mismatch("the checkpoint is of '" + state.optimizer + "', not '" + std::string(full.name()) +
             "'");
  auto& groups = full.param_groups();
  if (state.param_groups.size() != groups.size())
    mismatch(std::to_string(state.param_groups.size()) + " groups in the checkpoint, " +
             std::to_string(groups.size()) + " here");
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const GroupStateDict& gs = state.param_groups[g];
    if (gs.tensors.size() != groups[g].size())
      mismatch("group " + std::to_string(g) + " has " + std::to_string(gs.tensors.size()) +
               " tensors in the checkpoint, " + std::to_string(groups[g].size()) + " here");
    try {
      full.validate(gs.options);
    } catch (const std::exception& e) {
      mismatch("group " + std::to_string(g) + ": " + e.what());
    }
    for (std::size_t i = 0; i < gs.tensors.size(); ++i) {
      const TensorStateDict& t = gs.tensors[i];
      const TensorInfo& info = groups[g].info(i);
      if (t.name != info.name || t.shape != info.shape)
        mismatch("tensor " + std::to_string(i) + " of group " + std::to_string(g) + " is '" +
                 t.name + "' " + shape_to_string(t.shape) + " in the checkpoint, '" + info.name +
                 "' " + shape_to_string(info.shape) + " here");
      // Checked here, before slicing, since a shard's load sees only its pieces.
      bool sizes_ok = (!t.param || t.param->size() == info.numel) &&
                      (!t.param16 || t.param16->size() == info.numel);
      for (const StateArray& a : t.arrays)
        sizes_ok = sizes_ok && element_count(a) == info.numel &&
                   (a.dtype != DType::q8 || a.scales.size() == blocks_of(info.numel));
      if (!sizes_ok) mismatch("tensor '" + t.name + "' has arrays of the wrong size");
    }
  }
}

std::string shard_file(const std::string& prefix, const ShardedState& s) {
  return prefix + ".rank" + std::to_string(s.rank) + "-of-" + std::to_string(s.size);
}

// The first failing rank's message on every rank ("" when none failed): its own where it is
// known, else which rank failed.
std::string first_error(const std::string& mine, const ShardedState& s) {
  const int failed = mine.empty() ? 0 : s.rank + 1;
  int first = 0;
  MPI_Allreduce(&failed, &first, 1, MPI_INT, MPI_MAX, s.comm);
  if (first == 0) return "";
  return mine.empty() ? "rank " + std::to_string(first - 1) + " failed" : mine;
}

// Throws unless `state` holds exactly the pieces of `shard` (the same names and shapes).
void check_pieces(Optimizer& shard, const OptimizerStateDict& state) {
  auto& groups = shard.param_groups();
  bool same = state.param_groups.size() == groups.size();
  for (std::size_t g = 0; same && g < groups.size(); ++g) {
    same = state.param_groups[g].tensors.size() == groups[g].size();
    for (std::size_t i = 0; same && i < groups[g].size(); ++i)
      same = state.param_groups[g].tensors[i].name == groups[g].info(i).name &&
             state.param_groups[g].tensors[i].shape == groups[g].info(i).shape;
  }
  if (!same)
    throw CheckpointError(
        "the file holds other pieces than this rank's shard (written by another rank count or "
        "bucket size; save() writes a file that re-shards)");
}

// Group `g`'s options from the lowest rank whose shard has a part of it, on every rank.
void broadcast_options(ShardedState& s, std::size_t g) {
  int root = -1;
  std::ptrdiff_t local = -1;
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.layout.buckets[b].group != g) continue;
    if (local < 0) local = s.shard_group[b];
    for (int r = 0; r < s.size; ++r)
      if (s.layout.buckets[b].content[r] > 0 && (root < 0 || r < root)) root = r;
  }
  if (root < 0) return;  // no tensor holds an element
  std::string keys;
  std::vector<double> values;
  if (s.rank == root)
    for (const auto& [key, value] :
         s.shard->param_groups()[static_cast<std::size_t>(local)].options().items()) {
      keys += key + '\n';
      values.push_back(value);
    }
  std::uint64_t sizes[2] = {keys.size(), values.size()};
  MPI_Bcast(sizes, 2, MPI_UINT64_T, root, s.comm);
  keys.resize(sizes[0]);
  values.resize(sizes[1]);
  MPI_Bcast(keys.data(), static_cast<int>(sizes[0]), MPI_CHAR, root, s.comm);
  MPI_Bcast(values.data(), static_cast<int>(sizes[1]), MPI_DOUBLE, root, s.comm);
  GroupOptions options;
  std::size_t start = 0;
  for (double v : values) {
    const std::size_t end = keys.find('\n', start);
    options.set(keys.substr(start, end - start), v);
    start = end + 1;
  }
  s.full.param_groups()[g].options() = options;
}

template <class T>
std::vector<T> slice(const std::vector<T>& v, std::size_t begin, std::size_t end) {
  return {v.begin() + static_cast<std::ptrdiff_t>(begin),
          v.begin() + static_cast<std::ptrdiff_t>(end)};
}

template <class T>
void append(std::vector<T>& to, const std::vector<T>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// Piece `p` of a tensor's array as stored. A q8 piece starts on a block (the shards of a group
// with q8 state are cut at multiples of 256), so its codes and their scales move together.
StateArray slice(const StateArray& a, const Piece& p) {
  StateArray out{a.name, a.dtype, {}};
  out.non_negative = a.non_negative;
  if (a.dtype == DType::f32) out.data = slice(a.data, p.begin, p.end);
  if (a.dtype == DType::bf16 || a.dtype == DType::f16) out.bits16 = slice(a.bits16, p.begin, p.end);
  if (a.dtype == DType::q8) {
    if (p.begin % kQuantBlock != 0) throw std::logic_error("a q8 piece that starts inside a block");
    out.codes = slice(a.codes, p.begin, p.end);
    out.scales = slice(a.scales, p.begin / kQuantBlock, blocks_of(p.end));
  }
  return out;
}

// The pieces of every rank's shard, concatenated into whole tensors (arrays as stored).
// `shards[r]` is rank r's shard optimizer's state dict; `groups` has every tensor's name, shape
// and dtype set.
void concatenate(const ShardLayout& layout, const std::deque<ParamGroup>& full,
                 const std::vector<OptimizerStateDict>& shards,
                 std::vector<GroupStateDict>& groups) {
  for (std::size_t r = 0; r < shards.size(); ++r) {
    std::size_t next = 0;  // rank r's shard groups are its non-empty buckets, in order
    for (const Bucket& b : layout.buckets) {
      const std::vector<Piece> pieces =
          pieces_in(full[b.group], b.begin[r], b.begin[r] + b.content[r]);
      if (pieces.empty()) continue;
      if (next >= shards[r].param_groups.size() ||
          shards[r].param_groups[next].tensors.size() != pieces.size())
        throw std::logic_error("rank " + std::to_string(r) + "'s shard has other pieces");
      const GroupStateDict& from = shards[r].param_groups[next++];
      for (std::size_t i = 0; i < pieces.size(); ++i) {
        const TensorStateDict& piece = from.tensors[i];
        TensorStateDict& t = groups[b.group].tensors[pieces[i].tensor];
        // Ranks in order, buckets in order: a tensor's pieces arrive in element order.
        if (pieces[i].begin == 0) {
          t.step = piece.step;
          t.initialized = piece.initialized;
          t.scalars = piece.scalars;
          for (const StateArray& a : piece.arrays) {
            StateArray& e = t.arrays.emplace_back(StateArray{a.name, a.dtype, {}});
            e.non_negative = a.non_negative;
          }
        }
        // Matched by name: each piece's shard group lists its arrays in its own order.
        if (piece.arrays.size() != t.arrays.size())
          throw std::logic_error("the pieces of '" + t.name + "' hold other state arrays");
        for (StateArray& whole : t.arrays) {
          const auto a = std::find_if(piece.arrays.begin(), piece.arrays.end(),
                                      [&](const StateArray& x) { return x.name == whole.name; });
          if (a == piece.arrays.end() || a->dtype != whole.dtype)
            throw std::logic_error("the pieces of '" + t.name + "' hold other state arrays");
          append(whole.data, a->data);
          append(whole.bits16, a->bits16);
          append(whole.codes, a->codes);
          append(whole.scales, a->scales);
        }
        if (piece.param) append(t.param ? *t.param : t.param.emplace(), *piece.param);
        if (piece.param16) append(t.param16 ? *t.param16 : t.param16.emplace(), *piece.param16);
      }
    }
  }
}

// After the shards were loaded: every rank's parameters into every rank's full arenas, and
// this rank's master weights into the full group's (current in its own shard only, as after a
// step).
void finish_load(ShardedState& s) {
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b)
    s.post_param_gather(b, &s.gather_requests[b]);
  MPI_Waitall(static_cast<int>(s.gather_requests.size()), s.gather_requests.data(),
              MPI_STATUSES_IGNORE);
  const auto me = static_cast<std::size_t>(s.rank);
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.shard_group[b] < 0) continue;
    ParamGroup& group = s.full.param_groups()[s.layout.buckets[b].group];
    if (!group.storage().master_weights) continue;
    ParamGroup& inner = s.shard->param_groups()[static_cast<std::size_t>(s.shard_group[b])];
    std::memcpy(group.param_arena().data() + s.layout.buckets[b].begin[me],
                inner.param_arena().data(), s.layout.buckets[b].content[me] * sizeof(float));
  }
}

// load_state_dict(shard, state) on every rank, or on none: a rank whose load fails (its
// pieces found a problem the others' did not) makes the others restore their shard.
void load_all_or_none(ShardedState& s, const OptimizerStateDict& state, const char* what) {
  const OptimizerStateDict before =
      state_dict(*s.shard, {.include_params = true, .as_stored = true});
  std::string error;
  try {
    load_state_dict(*s.shard, state);
  } catch (const std::exception& e) {
    error = e.what();
  }
  const bool failed_here = !error.empty();
  error = first_error(error, s);
  if (error.empty()) return;
  if (!failed_here) load_state_dict(*s.shard, before);
  throw CheckpointError(std::string(what) + error);
}

}  // namespace
}  // namespace detail

inline namespace v1 {

void ShardedOptimizer::save(const std::string& path) {
  detail::ShardedState& s = *s_;
  Optimizer& full = s.full;
  auto& groups = full.param_groups();
  // Every rank's pieces as its shard stores them (q8 codes and scales, 16-bit bits), gathered
  // on rank 0 and concatenated: the arrays the single-process optimizer would store.
  const std::vector<std::byte> mine =
      encode_checkpoint(state_dict(*s.shard, {.include_params = true, .as_stored = true}));
  std::vector<std::uint64_t> sizes(static_cast<std::size_t>(s.size));
  const std::uint64_t my_size = mine.size();
  MPI_Allgather(&my_size, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, s.comm);
  std::vector<std::byte> all =
      detail::gather_bytes(mine, sizes, detail::message_bytes(s.comm, s.rank), s.rank, s.comm);

  std::string error;
  if (s.rank == 0) try {
      std::vector<OptimizerStateDict> shards;
      std::size_t from = 0;
      for (std::uint64_t n : sizes) {
        shards.push_back(decode_checkpoint(std::span<const std::byte>(all).subspan(from, n)));
        from += n;
      }
      all = {};
      OptimizerStateDict state;
      state.optimizer = std::string(full.name());
      for (std::size_t g = 0; g < groups.size(); ++g) {
        ParamGroup& group = groups[g];
        GroupStateDict& gs = state.param_groups.emplace_back();
        gs.options = group.options();
        if (!group.storage().is_default()) gs.storage = group.storage();
        for (std::size_t i = 0; i < group.size(); ++i) {
          TensorStateDict& t = gs.tensors.emplace_back();
          t.name = group.info(i).name;
          t.shape = group.info(i).shape;
          t.dtype = group.param_dtype();
        }
      }
      detail::concatenate(s.layout, groups, shards, state.param_groups);
      for (std::size_t g = 0; g < groups.size(); ++g) {
        ParamGroup& group = groups[g];
        for (std::size_t i = 0; i < group.size(); ++i) {
          TensorStateDict& t = state.param_groups[g].tensors[i];
          const TensorInfo& info = group.info(i);
          if (info.numel == 0)  // held by no shard: never stepped
            full.save_tensor_scalars(g, i, t.scalars);
          // The parameters as the engine holds them, current on every rank; master weights
          // are current in their own shard only, so those came from the shards.
          if (group.storage().master_weights) {
            if (!t.param) t.param.emplace();
            continue;
          }
          t.param.reset();
          t.param16.reset();
          const auto at = static_cast<std::ptrdiff_t>(info.offset);
          const auto end = static_cast<std::ptrdiff_t>(info.offset + info.numel);
          if (group.param_arena().empty())
            t.param16.emplace(group.param16_arena().begin() + at,
                              group.param16_arena().begin() + end);
          else
            t.param.emplace(group.param_arena().begin() + at, group.param_arena().begin() + end);
        }
      }
      simdoptim::save(state, path);
    } catch (const std::exception& e) {
      error = e.what();
    }
  error = detail::broadcast_error(error, s.comm);
  if (!error.empty()) throw std::runtime_error("ShardedOptimizer::save: " + error);
}

void ShardedOptimizer::load(const std::string& path) {
  detail::ShardedState& s = *s_;
  Optimizer& full = s.full;
  std::vector<std::byte> bytes;
  std::string error;
  if (s.rank == 0) try {
      bytes = encode_checkpoint(read_checkpoint(path));
    } catch (const std::exception& e) {
      error = e.what();
    }
  error = detail::broadcast_error(error, s.comm);
  if (!error.empty()) throw CheckpointError("ShardedOptimizer::load: " + error);
  std::uint64_t n = bytes.size();
  MPI_Bcast(&n, 1, MPI_UINT64_T, 0, s.comm);
  bytes.resize(n);
  detail::broadcast_bytes(bytes.data(), n, detail::message_bytes(s.comm, s.rank), s.comm);
  OptimizerStateDict state = decode_checkpoint(bytes);
  detail::check_matches(full, state);
  // Arrays are sliced as stored and the shard's load converts each piece to its storage, as a
  // single-process load converts the tensor: element by element, or block by block into q8
  // (pieces start on blocks then). q8 blocks of a file cut into a group without q8 state would
  // not be whole in a piece, so those are dequantized first.
  for (std::size_t g = 0; g < state.param_groups.size(); ++g)
    if (full.param_groups()[g].storage().state != DType::q8)
      for (TensorStateDict& t : state.param_groups[g].tensors)
        for (StateArray& a : t.arrays)
          if (a.dtype == DType::q8) a = convert(a, DType::f32);

  OptimizerStateDict pieces;
  pieces.optimizer = state.optimizer;
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.shard_group[b] < 0) continue;
    const GroupStateDict& from = state.param_groups[s.layout.buckets[b].group];
    const ParamGroup& group = full.param_groups()[s.layout.buckets[b].group];
    GroupStateDict& gs = pieces.param_groups.emplace_back();
    gs.options = from.options;
    gs.storage = from.storage;
    for (const detail::Piece& p : s.pieces[b]) {
      const TensorStateDict& t = from.tensors[p.tensor];
      TensorStateDict& piece = gs.tensors.emplace_back();
      piece.name = detail::piece_name(group, p);
      piece.shape = {static_cast<std::int64_t>(p.end - p.begin)};
      piece.dtype = t.dtype;
      piece.step = t.step;
      piece.initialized = t.initialized;
      for (const StateArray& a : t.arrays) piece.arrays.push_back(detail::slice(a, p));
      piece.scalars = t.scalars;
      if (t.param) piece.param = detail::slice(*t.param, p.begin, p.end);
      if (t.param16) piece.param16 = detail::slice(*t.param16, p.begin, p.end);
    }
  }
  detail::load_all_or_none(s, pieces, "ShardedOptimizer::load: ");
  for (std::size_t g = 0; g < state.param_groups.size(); ++g)
    full.param_groups()[g].options() = state.param_groups[g].options;
  detail::finish_load(s);
}

void ShardedOptimizer::save_shards(const std::string& prefix) {
  detail::ShardedState& s = *s_;
  // Options a scheduler set since the last step.
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b)
    if (s.shard_group[b] >= 0)
      s.shard->param_groups()[static_cast<std::size_t>(s.shard_group[b])].options() =
          s.full.param_groups()[s.layout.buckets[b].group].options();
  std::string error;
  try {
    simdoptim::save(*s.shard, detail::shard_file(prefix, s));
  } catch (const std::exception& e) {
    error = e.what();
  }
  error = detail::first_error(error, s);
  if (!error.empty()) throw std::runtime_error("ShardedOptimizer::save_shards: " + error);
}

void ShardedOptimizer::load_shards(const std::string& prefix) {
  detail::ShardedState& s = *s_;
  OptimizerStateDict state;
  std::string error;
  try {
    state = read_checkpoint(detail::shard_file(prefix, s));
    detail::check_pieces(*s.shard, state);
  } catch (const std::exception& e) {
    error = e.what();
  }
  error = detail::first_error(error, s);
  if (!error.empty()) throw CheckpointError("ShardedOptimizer::load_shards: " + error);
  detail::load_all_or_none(s, state, "ShardedOptimizer::load_shards: ");
  detail::finish_load(s);
  for (std::size_t g = 0; g < s.full.param_groups().size(); ++g) detail::broadcast_options(s, g);
}

}  // namespace v1
}  // namespace simdoptim
