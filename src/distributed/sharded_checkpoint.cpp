// ShardedOptimizer::save and load: the shards gathered into one single-process checkpoint, and
// a checkpoint of any rank count cut into this rank count's shards.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "distributed/sharded_state.hpp"
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
  std::string out(n, '\0');
  MPI_Bcast(out.data(), static_cast<int>(n), MPI_CHAR, 0, comm);
  return out;
}

// The rank whose shard of group `g` holds arena element `offset`.
std::size_t owner_of(const ShardLayout& layout, std::size_t g, std::size_t offset) {
  const auto k = static_cast<std::size_t>(layout.ranks);
  std::size_t r = 0;
  while (r + 1 < k && layout.shards[g * k + r].end <= offset) ++r;
  return r;
}

// [step, initialized, scalars...] of every tensor, from the ranks holding its first element.
std::vector<double> tensor_rows(ShardedState& s, std::size_t width) {
  std::vector<std::size_t> first_row;
  std::size_t tensors = 0;
  for (const ParamGroup& g : s.full.param_groups()) {
    first_row.push_back(tensors);
    tensors += g.size();
  }
  std::vector<double> rows(tensors * width, 0.0);
  std::vector<std::pair<std::string, double>> scalars;
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.shard_group[b] < 0) continue;
    const auto ig = static_cast<std::size_t>(s.shard_group[b]);
    const ParamGroup& inner = s.shard->param_groups()[ig];
    for (std::size_t i = 0; i < s.pieces[b].size(); ++i) {
      const Piece& p = s.pieces[b][i];
      if (p.begin != 0) continue;
      double* row = &rows[(first_row[s.layout.buckets[b].group] + p.tensor) * width];
      row[0] = static_cast<double>(inner.step_count(i));
      row[1] = inner.has_state(i) ? 1.0 : 0.0;
      scalars.clear();
      s.shard->save_tensor_scalars(ig, i, scalars);
      for (std::size_t k = 0; k < scalars.size(); ++k) row[2 + k] = scalars[k].second;
    }
  }
  std::vector<double> all(s.rank == 0 ? rows.size() * static_cast<std::size_t>(s.size) : 0);
  MPI_Gather(rows.data(), static_cast<int>(rows.size()), MPI_DOUBLE, all.data(),
             static_cast<int>(rows.size()), MPI_DOUBLE, 0, s.comm);
  return all;
}

// State array `name` of group `g`, whole, on rank 0 (empty elsewhere).
std::vector<float> gather_array(ShardedState& s, std::size_t g, const std::string& name) {
  std::vector<float> arena(s.rank == 0 ? s.full.param_groups()[g].padded_numel() : 0);
  std::vector<float> zeros;
  const auto me = static_cast<std::size_t>(s.rank);
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.layout.buckets[b].group != g) continue;
    const float* send = nullptr;
    if (s.shard_group[b] >= 0)
      send = s.shard->param_groups()[static_cast<std::size_t>(s.shard_group[b])].state_arena(name);
    if (send == nullptr) {
      zeros.assign(s.layout.buckets[b].content[me] + ParamGroup::kTensorAlign, 0.0f);
      send = zeros.data();
    }
    const BucketCounts& c = s.counts[b];
    MPI_Gatherv(send, c.own, s.unit, arena.data(), c.counts.data(), c.displs.data(), s.unit, 0,
                s.comm);
  }
  return arena;
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
      bool sizes_ok = !t.param || t.param->size() == info.numel;
      for (const StateArray& a : t.arrays) sizes_ok = sizes_ok && a.data.size() == info.numel;
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

std::vector<float> slice(const std::vector<float>& v, const Piece& p) {
  return {v.begin() + static_cast<std::ptrdiff_t>(p.begin),
          v.begin() + static_cast<std::ptrdiff_t>(p.end)};
}

}  // namespace
}  // namespace detail

inline namespace v1 {

void ShardedOptimizer::save(const std::string& path) {
  detail::ShardedState& s = *s_;
  Optimizer& full = s.full;
  auto& groups = full.param_groups();
  const std::vector<std::string> names = optimizer_state_names(full.name());
  // Which arrays exist in each group: those any rank's shard made.
  std::vector<std::uint64_t> mine(groups.size(), 0), exists(groups.size(), 0);
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.shard_group[b] < 0) continue;
    ParamGroup& inner = s.shard->param_groups()[static_cast<std::size_t>(s.shard_group[b])];
    for (std::size_t k = 0; k < names.size(); ++k)
      if (inner.state_arena(names[k]) != nullptr)
        mine[s.layout.buckets[b].group] |= std::uint64_t{1} << k;
  }
  MPI_Allreduce(mine.data(), exists.data(), static_cast<int>(groups.size()), MPI_UINT64_T, MPI_BOR,
                s.comm);
  const std::vector<std::string> scalar_names = optimizer_tensor_scalar_names(full.name());
  const std::size_t width = 2 + scalar_names.size();
  const std::vector<double> rows = detail::tensor_rows(s, width);
  std::size_t tensors = 0;
  for (const ParamGroup& g : groups) tensors += g.size();

  OptimizerStateDict state;
  state.optimizer = std::string(full.name());
  std::size_t row = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    std::vector<std::pair<std::string, std::vector<float>>> arrays;
    for (std::size_t k = 0; k < names.size(); ++k)
      if (exists[g] >> k & 1) arrays.emplace_back(names[k], detail::gather_array(s, g, names[k]));
    if (s.rank != 0) continue;
    ParamGroup& group = groups[g];
    GroupStateDict& gs = state.param_groups.emplace_back();
    gs.options = group.options();
    for (std::size_t i = 0; i < group.size(); ++i, ++row) {
      const TensorInfo& info = group.info(i);
      TensorStateDict& t = gs.tensors.emplace_back();
      t.name = info.name;
      t.shape = info.shape;
      t.dtype = group.param_dtype();
      auto part = [&](const float* arena) {
        return std::vector<float>(arena + info.offset, arena + info.offset + info.numel);
      };
      t.param = part(group.param_arena().data());
      if (info.numel == 0) {  // held by no shard: never stepped
        full.save_tensor_scalars(g, i, t.scalars);
        continue;
      }
      const double* r = &rows[(detail::owner_of(s.layout, g, info.offset) * tensors + row) * width];
      t.step = static_cast<std::int64_t>(r[0]);
      t.initialized = r[1] != 0.0;
      if (t.initialized)
        for (const auto& [name, arena] : arrays)
          t.arrays.push_back({name, group.state_dtype(), part(arena.data())});
      for (std::size_t k = 0; k < scalar_names.size(); ++k)
        t.scalars.emplace_back(scalar_names[k], r[2 + k]);
    }
  }
  std::string error;
  if (s.rank == 0) try {
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
  MPI_Bcast(bytes.data(), static_cast<int>(n), MPI_BYTE, 0, s.comm);
  OptimizerStateDict state = decode_checkpoint(bytes);
  // The shards keep fp32 arrays: a file of 16-bit or q8 storage (one process's) loads as its
  // values, dequantized and widened as load_state_dict converts them.
  for (GroupStateDict& g : state.param_groups)
    for (TensorStateDict& t : g.tensors) {
      for (StateArray& a : t.arrays)
        if (a.dtype != DType::f32) a = convert(a, DType::f32);
      if (t.param16) t.param = values({"", t.dtype, {}, *t.param16});
      t.param16.reset();
      t.dtype = DType::f32;
    }
  detail::check_matches(full, state);

  OptimizerStateDict pieces;
  pieces.optimizer = state.optimizer;
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b) {
    if (s.shard_group[b] < 0) continue;
    const GroupStateDict& from = state.param_groups[s.layout.buckets[b].group];
    const ParamGroup& group = full.param_groups()[s.layout.buckets[b].group];
    GroupStateDict& gs = pieces.param_groups.emplace_back();
    gs.options = from.options;
    for (const detail::Piece& p : s.pieces[b]) {
      const TensorStateDict& t = from.tensors[p.tensor];
      TensorStateDict& piece = gs.tensors.emplace_back();
      piece.name = detail::piece_name(group, p);
      piece.shape = {static_cast<std::int64_t>(p.end - p.begin)};
      piece.dtype = t.dtype;
      piece.step = t.step;
      piece.initialized = t.initialized;
      for (const StateArray& a : t.arrays)
        piece.arrays.push_back({a.name, a.dtype, detail::slice(a.data, p)});
      piece.scalars = t.scalars;
      if (t.param) piece.param = detail::slice(*t.param, p);
    }
  }
  load_state_dict(*s.shard, pieces);
  for (std::size_t g = 0; g < state.param_groups.size(); ++g) {
    ParamGroup& group = full.param_groups()[g];
    group.options() = state.param_groups[g].options;
    for (std::size_t i = 0; i < group.size(); ++i)
      if (const auto& p = state.param_groups[g].tensors[i].param)
        std::copy(p->begin(), p->end(), group.param(i).data.begin());
  }
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
  load_state_dict(*s.shard, state);
  for (std::size_t b = 0; b < s.layout.buckets.size(); ++b)
    s.post_param_gather(b, &s.gather_requests[b]);
  MPI_Waitall(static_cast<int>(s.gather_requests.size()), s.gather_requests.data(),
              MPI_STATUSES_IGNORE);
  for (std::size_t g = 0; g < s.full.param_groups().size(); ++g) detail::broadcast_options(s, g);
}

}  // namespace v1
}  // namespace simdoptim
