// ShardedOptimizer under mpirun -np K: bitwise equal to one process stepping the rank-order
// average, its checkpoints (resume, re-shard, single-process format) and its refusals, which
// must reach every rank rather than hang one.
#define CATCH_CONFIG_RUNNER
#include <mpi.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "invalid_argument_message.hpp"
#include "simdoptim/checkpoint.hpp"
#include "simdoptim/dtype_convert.hpp"
#include "simdoptim/optimizer_registry.hpp"
#include "simdoptim/sharded_optimizer.hpp"

using Catch::Contains;
using simdoptim::test::invalid_argument_message;
namespace so = simdoptim;

namespace {

int rank_of(MPI_Comm comm) {
  int r = 0;
  MPI_Comm_rank(comm, &r);
  return r;
}
int size_of(MPI_Comm comm) {
  int k = 0;
  MPI_Comm_size(comm, &k);
  return k;
}

// Sizes that break things: 1, a unit minus one, plus one, a 2-d tensor, a 0-d one, a prime.
std::vector<so::ParamSpec> group_specs(int group) {
  std::vector<so::ParamSpec> specs;
  if (group == 0)
    specs = {{"a", {1}}, {"b", {15}}, {"c", {17}}, {"d", {3, 37}}, {"e", {1009}}};
  else
    specs = {{"f", {64}}, {"g", {2, 5}}, {"h", {}}};
  std::uint32_t x = 12345u + static_cast<std::uint32_t>(group);
  for (auto& s : specs) {
    s.init.resize(so::numel_of(s.shape));
    for (float& v : s.init) {
      x = x * 1664525u + 1013904223u;
      v = static_cast<float>(static_cast<int>(x >> 20) - 2048) / 1024.0f;
    }
  }
  return specs;
}

so::GroupOptions options_of(const std::string& name, int group) {
  so::GroupOptions o;
  if (name == "sgd") o = {{"lr", 0.1}, {"momentum", 0.9}, {"nesterov", 1}, {"weight_decay", 0.01}};
  if (name == "adam") o = {{"lr", 0.01}, {"amsgrad", 1}};
  if (name == "adamw") o = {{"lr", 0.01}, {"weight_decay", 0.1}};
  if (name == "lion") o = {{"lr", 0.001}, {"weight_decay", 0.1}};
  if (name == "nadam") o = {{"lr", 0.01}};
  if (group == 1) o.set("lr", o.get("lr") * 0.5);
  return o;
}

std::unique_ptr<so::Optimizer> build(const std::string& name, so::Isa isa,
                                     so::StorageOptions storage = {}) {
  auto o = so::make_optimizer(name, so::RuntimeOptions{isa, 1});
  for (int g = 0; g < 2; ++g) o->add_param_group(group_specs(g), options_of(name, g), storage);
  return o;
}

// Rank `rank`'s gradient element j of flat tensor t at step s: different on every rank.
float grad_value(int rank, int step, std::size_t t, std::size_t j) {
  std::uint32_t h = static_cast<std::uint32_t>(rank * 7919 + step * 104729) ^
                    static_cast<std::uint32_t>(t * 2654435761u + j * 40503u);
  h ^= h >> 13;
  h *= 0x5bd1e995u;
  h ^= h >> 15;
  return static_cast<float>(static_cast<int>(h % 2001u) - 1000) / 997.0f;
}

// The gradients of step `step` (tensor `skip` left without one): rank `rank`'s when
// `ranks` is 0, else the documented average of ranks 0..ranks-1, summed in rank order. 16-bit
// gradients: each rank's rounded to nearest-even, the average of the widened values rounded.
void write_grads(so::Optimizer& o, int step, std::size_t skip, int rank, int ranks) {
  o.zero_grad();
  std::size_t t = 0;
  for (so::ParamGroup& g : o.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i, ++t) {
      if (t == skip) continue;
      const so::TensorView v = g.grad(i);
      const bool half = v.dtype != so::DType::f32;
      auto value = [&](int r, std::size_t j) {
        const float x = grad_value(r, step, t, j);
        return half ? so::from_bits16(v.dtype, so::to_bits16(v.dtype, x)) : x;
      };
      for (std::size_t j = 0; j < g.info(i).numel; ++j) {
        float x = value(rank, j);
        if (ranks != 0) {
          x = value(0, j);
          for (int r = 1; r < ranks; ++r) x = x + value(r, j);
          x = x / static_cast<float>(ranks);
        }
        if (half)
          v.data16[j] = so::to_bits16(v.dtype, x);
        else
          v.data[j] = x;
      }
    }
}

// Steps [first, first + count) on both, with a scheduler-like lr change and, at step 1, a
// tensor without a gradient.
void run(so::ShardedOptimizer& sharded, so::Optimizer& reference, int first, int count, int ranks) {
  for (int s = first; s < first + count; ++s) {
    for (so::Optimizer* o : {&sharded.optimizer(), &reference})
      for (so::ParamGroup& g : o->param_groups()) g.set_lr(g.lr() * 0.9);
    const std::size_t skip = s == 1 ? 2 : 99;
    write_grads(sharded.optimizer(), s, skip, sharded.rank(), 0);
    sharded.step();
    write_grads(reference, s, skip, 0, ranks);
    reference.step();
  }
}

bool same_params(so::Optimizer& a, so::Optimizer& b) {
  for (std::size_t g = 0; g < a.param_groups().size(); ++g) {
    const auto x = a.param_groups()[g].param_arena();
    const auto y = b.param_groups()[g].param_arena();
    if (x.size() != y.size() || std::memcmp(x.data(), y.data(), x.size_bytes()) != 0) return false;
  }
  return true;
}

// same_params for any storage: the 16-bit parameters everywhere; fp32 parameters everywhere,
// master weights in this rank's shard (the wrapped optimizer's are current there only).
bool same_params_any(so::ShardedOptimizer& sharded, so::Optimizer& reference) {
  for (std::size_t g = 0; g < reference.param_groups().size(); ++g) {
    so::ParamGroup& a = sharded.optimizer().param_groups()[g];
    so::ParamGroup& b = reference.param_groups()[g];
    const auto x16 = a.param16_arena(), y16 = b.param16_arena();
    if (x16.size() != y16.size() || std::memcmp(x16.data(), y16.data(), x16.size_bytes()) != 0)
      return false;
    auto x = a.param_arena(), y = b.param_arena();
    if (x.size() != y.size()) return false;
    if (a.storage().master_weights) {
      const so::ShardRange s = sharded.shard(g);
      x = x.subspan(s.begin, s.end - s.begin);
      y = y.subspan(s.begin, s.end - s.begin);
    }
    if (std::memcmp(x.data(), y.data(), x.size_bytes()) != 0) return false;
  }
  return true;
}

// A folder every rank of `comm` names alike, for checkpoints.
std::string shared_folder(MPI_Comm comm) {
  long id = static_cast<long>(::getpid());
  MPI_Bcast(&id, 1, MPI_LONG, 0, comm);
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("simdoptim_sharded_" + std::to_string(id) + "_" + std::to_string(size_of(comm)));
  if (rank_of(comm) == 0) std::filesystem::create_directories(dir);
  MPI_Barrier(comm);
  return dir.string();
}

const char* const kOptimizers[] = {"sgd", "adam", "adamw", "lion", "nadam"};

std::vector<char> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Whether `path` holds, byte for byte, the file save() of `reference` writes (checked on rank 0;
// true elsewhere).
bool same_file(const std::string& path, so::Optimizer& reference, MPI_Comm comm) {
  bool same = true;
  if (rank_of(comm) == 0) {
    const std::string mine = path + ".reference";
    so::save(reference, mine);
    same = file_bytes(path) == file_bytes(mine);
  }
  MPI_Barrier(comm);
  return same;
}

// The storages whose checkpoints must work sharded: a mix of each kind.
const so::StorageOptions kStorages[] = {
    {.state = so::DType::bf16},
    {.state = so::DType::q8},
    {.param = so::DType::bf16, .grad = so::DType::bf16, .master_weights = true},
    {.param = so::DType::f16, .grad = so::DType::f16, .state = so::DType::q8},
    {.param = so::DType::bf16, .grad = so::DType::bf16, .state = so::DType::bf16}};

}  // namespace

TEST_CASE("sharded steps equal one process stepping the rank-order average", "[sharded]") {
  const int k = size_of(MPI_COMM_WORLD);
  for (const char* name : kOptimizers)
    for (so::Isa isa : so::supported_isas())
      for (std::size_t bucket : {std::size_t{16}, std::size_t{100}, std::size_t{1} << 20}) {
        CAPTURE(name, so::isa_name(isa), bucket, k);
        auto full = build(name, isa);
        auto reference = build(name, isa);
        so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {bucket});
        run(sharded, *reference, 0, 3, k);
        REQUIRE(same_params(*full, *reference));
      }
}

// The shard keeps each group's state dtype; with q8 state the shards and buckets cut at whole
// quantization blocks (256 elements), so each block holds the same values as in one process.
TEST_CASE("sharded steps with bf16 and q8 state equal one process", "[sharded][precision]") {
  const int k = size_of(MPI_COMM_WORLD);
  for (so::DType state : {so::DType::bf16, so::DType::q8})
    for (const char* name : {"sgd", "adam", "adamw", "lion"})
      for (so::Isa isa : so::supported_isas())
        for (std::size_t bucket : {std::size_t{16}, std::size_t{300}, std::size_t{1} << 20}) {
          CAPTURE(static_cast<int>(state), name, so::isa_name(isa), bucket, k);
          auto full = build(name, isa, {.state = state});
          auto reference = build(name, isa, {.state = state});
          so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {bucket});
          const std::size_t unit = state == so::DType::q8 ? 256 : 16;
          for (std::size_t g = 0; g < 2; ++g) {
            CHECK(sharded.shard(g).begin % unit == 0);
            CHECK(sharded.shard(g).end % unit == 0);
          }
          run(sharded, *reference, 0, 3, k);
          REQUIRE(same_params(*full, *reference));
          for (const so::ParamGroup& g : sharded.shard_optimizer().param_groups()) {
            CHECK(g.storage().state == state);
            for (std::size_t i = 0; i < g.size(); ++i)  // pieces start on a block
              CHECK(g.info(i).offset % unit == 0);
          }
        }
}

// 16-bit gradients are averaged widened and rounded to their format; the shard steps the same
// storage (16-bit parameters, master weights, bf16 or q8 state) as one process.
TEST_CASE("sharded steps with 16-bit parameters and gradients equal one process",
          "[sharded][precision]") {
  using so::DType;
  const int k = size_of(MPI_COMM_WORLD);
  const so::StorageOptions storages[] = {
      {.param = DType::bf16, .grad = DType::bf16},
      {.param = DType::f16, .grad = DType::f16, .master_weights = true},
      {.param = DType::bf16, .grad = DType::bf16, .state = DType::q8, .master_weights = true},
      {.param = DType::bf16, .grad = DType::f16, .state = DType::bf16},
      {.grad = DType::bf16}};
  for (const so::StorageOptions& storage : storages)
    for (const char* name : {"sgd", "adam", "adamw", "lion"})
      for (so::Isa isa : so::supported_isas())
        for (std::size_t bucket : {std::size_t{16}, std::size_t{300}, std::size_t{1} << 20}) {
          CAPTURE(static_cast<int>(storage.param), static_cast<int>(storage.grad),
                  static_cast<int>(storage.state), storage.master_weights, name, so::isa_name(isa),
                  bucket, k);
          auto full = build(name, isa, storage);
          auto reference = build(name, isa, storage);
          so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {bucket});
          run(sharded, *reference, 0, 3, k);
          REQUIRE(same_params_any(sharded, *reference));
        }
}

TEST_CASE("sharded shards are balanced and hold 1/K of the state", "[sharded]") {
  const int k = size_of(MPI_COMM_WORLD);
  const auto ku = static_cast<std::size_t>(k);
  auto full = build("adamw", so::default_isa());
  auto reference = build("adamw", so::default_isa());
  so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD);
  run(sharded, *reference, 0, 1, k);
  std::size_t single = 0;  // the single process's state bytes
  std::size_t bound = 0;   // a 1/K share of them, plus one arena tail (64 elements) per group
  for (std::size_t g = 0; g < 2; ++g) {
    const std::size_t padded = full->param_groups()[g].padded_numel();
    const so::ShardRange s = sharded.shard(g);
    CHECK(s.begin % 16 == 0);
    CHECK(s.end % 16 == 0);
    CHECK(s.end - s.begin <= (padded / 16 + ku - 1) / ku * 16);
    CHECK(s.end - s.begin >= padded / 16 / ku * 16);
    single += 2 * 4 * padded;
    bound += 2 * 4 * ((padded / 16 + ku - 1) / ku * 16 + 64);
  }
  // AdamW keeps exp_avg and exp_avg_sq; the wrapped optimizer keeps none.
  CHECK(sharded.state_bytes() <= bound);
  CHECK(reference->param_groups()[0].state_names().size() == 2);
  CHECK(full->param_groups()[0].state_names().empty());
  std::uint64_t mine = sharded.state_bytes(), total = 0;
  MPI_Allreduce(&mine, &total, 1, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
  CHECK(total + 2 * 4 * 64 * 2 >= single);
  CHECK(total <= single + 2 * 4 * 64 * 2 * ku);
}

TEST_CASE("sharded checkpoints resume exactly, re-shard and load in one process",
          "[sharded][checkpoint]") {
  const int k = size_of(MPI_COMM_WORLD);
  const std::string dir = shared_folder(MPI_COMM_WORLD);
  for (const char* name : kOptimizers) {
    CAPTURE(name, k);
    const std::string path = dir + "/" + name + ".ckpt";
    auto full = build(name, so::default_isa());
    auto reference = build(name, so::default_isa());
    so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {32});
    run(sharded, *reference, 0, 2, k);
    sharded.save(path);
    // The gathered file is the single-process state dict, bit for bit.
    REQUIRE(so::read_checkpoint(path) == so::state_dict(*reference));

    // Resume at the same rank count into a fresh optimizer.
    auto full2 = build(name, so::default_isa());
    so::ShardedOptimizer resumed(*full2, MPI_COMM_WORLD, {32});
    resumed.load(path);
    run(resumed, *reference, 2, 2, k);
    REQUIRE(same_params(*full2, *reference));

    // Per-rank shard files: resume at the same rank count and bucket size; another bucket size
    // (other pieces) is refused on every rank.
    const std::string prefix = dir + "/" + name + ".shards";
    {
      auto full4 = build(name, so::default_isa());
      auto reference4 = build(name, so::default_isa());
      so::ShardedOptimizer writer(*full4, MPI_COMM_WORLD, {32});
      run(writer, *reference4, 0, 2, k);
      writer.save_shards(prefix);
      auto full5 = build(name, so::default_isa());
      so::ShardedOptimizer reader(*full5, MPI_COMM_WORLD, {32});
      reader.load_shards(prefix);
      run(reader, *reference4, 2, 2, k);
      REQUIRE(same_params(*full5, *reference4));
      auto full6 = build(name, so::default_isa());
      so::ShardedOptimizer other(*full6, MPI_COMM_WORLD, {64});
      REQUIRE_THROWS_AS(other.load_shards(prefix), so::CheckpointError);
    }

    // Re-shard onto the first half of the ranks (another rank count and bucket size), against
    // one process resumed from the same file.
    const int half = (k + 1) / 2;
    MPI_Comm sub = MPI_COMM_NULL;
    MPI_Comm_split(MPI_COMM_WORLD, rank_of(MPI_COMM_WORLD) < half ? 0 : MPI_UNDEFINED, 0, &sub);
    if (sub != MPI_COMM_NULL) {
      auto full3 = build(name, so::default_isa());
      auto reference3 = build(name, so::default_isa());
      {
        so::ShardedOptimizer resharded(*full3, sub, {48});
        resharded.load(path);
        so::load(*reference3, path);
        run(resharded, *reference3, 2, 2, half);
      }
      MPI_Comm_free(&sub);
      REQUIRE(same_params(*full3, *reference3));
    }
    MPI_Barrier(MPI_COMM_WORLD);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of(MPI_COMM_WORLD) == 0) std::filesystem::remove_all(dir);
}

TEST_CASE("sharded checkpoints of 16-bit and q8 storage are the single-process files",
          "[sharded][precision][checkpoint]") {
  const int k = size_of(MPI_COMM_WORLD);
  const std::string dir = shared_folder(MPI_COMM_WORLD);
  for (const so::StorageOptions& storage : kStorages)
    for (const char* name : {"sgd", "adam", "adamw", "lion"}) {
      CAPTURE(static_cast<int>(storage.param), static_cast<int>(storage.state),
              storage.master_weights, name, k);
      const std::string path = dir + "/" + name + ".ckpt";
      auto build_it = [&] { return build(name, so::default_isa(), storage); };
      auto full = build_it();
      auto reference = build_it();
      so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {32});
      run(sharded, *reference, 0, 2, k);
      sharded.save(path);
      REQUIRE(same_file(path, *reference, MPI_COMM_WORLD));

      // Resumed at the same rank count: the same parameters and, saved again, the same file.
      auto full2 = build_it();
      so::ShardedOptimizer resumed(*full2, MPI_COMM_WORLD, {32});
      resumed.load(path);
      auto reference2 = build_it();
      so::load(*reference2, path);
      run(resumed, *reference2, 2, 2, k);
      REQUIRE(same_params_any(resumed, *reference2));
      resumed.save(path + ".2");
      REQUIRE(same_file(path + ".2", *reference2, MPI_COMM_WORLD));

      // Per-rank shard files.
      const std::string prefix = dir + "/" + name + ".shards";
      sharded.save_shards(prefix);
      auto full3 = build_it();
      so::ShardedOptimizer reader(*full3, MPI_COMM_WORLD, {32});
      reader.load_shards(prefix);
      run(reader, *reference, 2, 2, k);
      REQUIRE(same_params_any(reader, *reference));
      reader.save(path + ".3");
      REQUIRE(same_file(path + ".3", *reference, MPI_COMM_WORLD));

      // Re-sharded onto the first half of the ranks, with another bucket size.
      const int half = (k + 1) / 2;
      MPI_Comm sub = MPI_COMM_NULL;
      MPI_Comm_split(MPI_COMM_WORLD, rank_of(MPI_COMM_WORLD) < half ? 0 : MPI_UNDEFINED, 0, &sub);
      if (sub != MPI_COMM_NULL) {
        auto full4 = build_it();
        auto reference4 = build_it();
        so::ShardedOptimizer resharded(*full4, sub, {48});
        resharded.load(path);
        so::load(*reference4, path);
        run(resharded, *reference4, 2, 2, half);
        REQUIRE(same_params_any(resharded, *reference4));
        resharded.save(path + ".4");
        REQUIRE(same_file(path + ".4", *reference4, sub));
        MPI_Comm_free(&sub);
      }
      MPI_Barrier(MPI_COMM_WORLD);
    }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of(MPI_COMM_WORLD) == 0) std::filesystem::remove_all(dir);
}

// A file of other storage (q8 state in one group, bf16 parameters and state in the other) loads
// converted to the sharded optimizer's storage, as into one process of that storage; into fp32
// as its values.
TEST_CASE("a one-process checkpoint of other storage loads sharded converted",
          "[sharded][checkpoint]") {
  const std::string dir = shared_folder(MPI_COMM_WORLD);
  const std::string stored = dir + "/stored.ckpt", gathered = dir + "/gathered.ckpt";
  auto single = so::make_optimizer("adamw", so::RuntimeOptions{so::default_isa(), 1});
  single->add_param_group(group_specs(0), options_of("adamw", 0), {.state = so::DType::q8});
  single->add_param_group(group_specs(1), options_of("adamw", 1),
                          {.param = so::DType::bf16, .state = so::DType::bf16});
  for (int s = 0; s < 2; ++s) {
    write_grads(*single, s, 99, 0, 0);
    single->step();
  }
  if (rank_of(MPI_COMM_WORLD) == 0) so::save(*single, stored);
  MPI_Barrier(MPI_COMM_WORLD);
  std::vector<so::StorageOptions> storages = {so::StorageOptions{}};
  storages.insert(storages.end(), std::begin(kStorages), std::end(kStorages));
  for (const so::StorageOptions& storage : storages) {
    CAPTURE(static_cast<int>(storage.param), static_cast<int>(storage.state),
            storage.master_weights);
    auto full = build("adamw", so::default_isa(), storage);
    auto reference = build("adamw", so::default_isa(), storage);
    so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {32});
    sharded.load(stored);
    so::load(*reference, stored);
    sharded.save(gathered);
    REQUIRE(same_file(gathered, *reference, MPI_COMM_WORLD));
    if (storage.is_default()) {
      // q8 state dequantized, bf16 parameters and state widened: the one process's values.
      so::OptimizerStateDict values = so::state_dict(*single);
      for (so::GroupStateDict& g : values.param_groups) g.storage.reset();
      REQUIRE(so::read_checkpoint(gathered) == values);
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (rank_of(MPI_COMM_WORLD) == 0) std::filesystem::remove_all(dir);
}

// A file that only some ranks' pieces find wrong (an unknown state array in one tensor) fails
// every rank, and no rank's state changes.
TEST_CASE("a sharded load that fails on some ranks changes no rank", "[sharded][checkpoint]") {
  const std::string dir = shared_folder(MPI_COMM_WORLD);
  const std::string bad = dir + "/bad.ckpt", before = dir + "/before.ckpt",
                    after = dir + "/after.ckpt";
  const int k = size_of(MPI_COMM_WORLD);
  for (const so::StorageOptions& storage : kStorages) {
    auto full = build("adam", so::default_isa(), storage);
    auto reference = build("adam", so::default_isa(), storage);
    so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {32});
    run(sharded, *reference, 0, 2, k);
    sharded.save(before);
    if (rank_of(MPI_COMM_WORLD) == 0) {
      so::OptimizerStateDict state = so::state_dict(*reference, {true, true});
      for (so::GroupStateDict& g : state.param_groups)
        for (so::TensorStateDict& t : g.tensors) t.step += 5;  // what a partial load would show
      state.param_groups[0].tensors[4].arrays[0].name = "no_such_state";
      so::save(state, bad);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    REQUIRE_THROWS_AS(sharded.load(bad), so::CheckpointError);
    sharded.save(after);
    if (rank_of(MPI_COMM_WORLD) == 0) REQUIRE(file_bytes(after) == file_bytes(before));
    MPI_Barrier(MPI_COMM_WORLD);
  }
  if (rank_of(MPI_COMM_WORLD) == 0) std::filesystem::remove_all(dir);
}

TEST_CASE("sharded refusals reach every rank", "[sharded]") {
  const int rank = rank_of(MPI_COMM_WORLD);
  const int k = size_of(MPI_COMM_WORLD);

  SECTION("a whole-tensor optimizer") {
    auto lamb = so::make_optimizer("lamb");
    lamb->add_param_group(group_specs(0));
    CHECK_THAT(invalid_argument_message([&] { so::ShardedOptimizer s(*lamb, MPI_COMM_WORLD); }),
               Contains("'lamb' needs whole-tensor quantities"));
  }
  SECTION("stochastic rounding") {
    auto full =
        build("adamw", so::default_isa(), {.param = so::DType::bf16, .stochastic_rounding = true});
    CHECK_THAT(invalid_argument_message([&] { so::ShardedOptimizer s(*full, MPI_COMM_WORLD); }),
               Contains("stochastically"));
  }
  SECTION("a rank with another parameter list") {
    auto full = build("adam", so::default_isa());
    if (rank == k - 1 && k > 1) full->add_param_group({{"extra", {3}}});
    const std::string message =
        invalid_argument_message([&] { so::ShardedOptimizer s(*full, MPI_COMM_WORLD); });
    if (k > 1)
      CHECK_THAT(message, Contains("different optimizers or parameter lists") &&
                              Contains("rank " + std::to_string(k - 1) + " (9 tensors)"));
    else
      CHECK(message.empty());
  }
  SECTION("a bad message bound, set on rank 0 only") {
    const std::string path = shared_folder(MPI_COMM_WORLD) + "/bound.ckpt";
    auto full = build("adam", so::default_isa());
    so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD);
    sharded.save(path);
    const char* before = std::getenv("SIMDOPTIM_MPI_MESSAGE_BYTES");
    const std::string kept = before != nullptr ? before : "";
    if (rank == 0) setenv("SIMDOPTIM_MPI_MESSAGE_BYTES", "0", 1);
    CHECK_THAT(invalid_argument_message([&] { sharded.save(path); }),
               Contains("SIMDOPTIM_MPI_MESSAGE_BYTES must be an integer from 1 to"));
    CHECK_THAT(invalid_argument_message([&] { sharded.load(path); }),
               Contains("SIMDOPTIM_MPI_MESSAGE_BYTES"));
    // Rank 0's own error reaches every rank with its words.
    CHECK_THROWS_WITH(sharded.load(path + ".missing"), Contains("bound.ckpt.missing"));
    if (before != nullptr)
      setenv("SIMDOPTIM_MPI_MESSAGE_BYTES", kept.c_str(), 1);
    else
      unsetenv("SIMDOPTIM_MPI_MESSAGE_BYTES");
  }
  SECTION("a rank with another lr, or another gradient present") {
    auto full = build("adam", so::default_isa());
    so::ShardedOptimizer sharded(*full, MPI_COMM_WORLD);
    write_grads(*full, 0, 99, rank, 0);
    const double lr = full->param_groups()[1].lr();
    if (rank == 0 && k > 1) full->param_groups()[1].set_lr(0.5);
    std::string message = invalid_argument_message([&] { sharded.step(); });
    if (k > 1) CHECK_THAT(message, Contains("options or present gradients differ"));
    full->param_groups()[1].set_lr(lr);
    write_grads(*full, 0, rank == 0 ? 3 : 99, rank, 0);
    message = invalid_argument_message([&] { sharded.step(); });
    if (k > 1) CHECK_THAT(message, Contains("options or present gradients differ"));
    // A bad lr on one rank fails every rank with its message where it is known.
    if (rank == k - 1) full->param_groups()[0].set_lr(-1.0);
    message = invalid_argument_message([&] { sharded.step(); });
    CHECK_THAT(message, Contains(rank == k - 1 ? "lr" : "rank " + std::to_string(k - 1)));
  }
}

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  // Only rank 0 reports passes; every rank reports failures.
  Catch::Session session;
  int rc = session.applyCommandLine(argc, argv);
  if (rc == 0) rc = session.run();
  int worst = 0;
  MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
