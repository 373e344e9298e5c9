// bench_sharded: step time, state memory and bytes moved of ShardedOptimizer against the rank
// count, with one process's step of the same model measured in the same run as the reference.
//   mpirun -np K bench_sharded [--optimizer adamw] [--numel N] [--tensors T] [--steps S]
//                              [--bucket B] [--threads N]
#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mpi_main.hpp"
#include "simdoptim/optimizer_registry.hpp"
#include "simdoptim/sharded_optimizer.hpp"

namespace {

struct Options {
  std::string optimizer = "adamw";
  std::size_t numel = std::size_t{1} << 24;
  std::size_t tensors = 64;
  int steps = 20;
  std::size_t bucket = simdoptim::ShardedOptions{}.bucket_elements;
  int threads = 1;
};

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    const std::string value = argv[i + 1];
    if (arg == "--optimizer") {
      o.optimizer = value;
    } else if (arg == "--numel") {
      o.numel = std::stoull(value);
    } else if (arg == "--tensors") {
      o.tensors = std::stoull(value);
    } else if (arg == "--steps") {
      o.steps = std::stoi(value);
    } else if (arg == "--bucket") {
      o.bucket = std::stoull(value);
    } else if (arg == "--threads") {
      o.threads = std::stoi(value);
    } else {
      throw std::invalid_argument("unknown option '" + arg + "'");
    }
  }
  if (argc % 2 == 0) throw std::invalid_argument("every option takes a value");
  return o;
}

// `tensors` tensors of numel / tensors elements each, gradients present and non-zero.
std::unique_ptr<simdoptim::Optimizer> build(const Options& o) {
  auto opt = simdoptim::make_optimizer(o.optimizer, simdoptim::RuntimeOptions{{}, o.threads});
  std::vector<simdoptim::ParamSpec> specs;
  for (std::size_t t = 0; t < o.tensors; ++t)
    specs.push_back({"p" + std::to_string(t), {static_cast<std::int64_t>(o.numel / o.tensors)}});
  opt->add_param_group(std::move(specs), {{"lr", 1e-3}});
  for (simdoptim::ParamGroup& g : opt->param_groups())
    for (std::size_t i = 0; i < g.size(); ++i)
      for (float& x : g.grad(i).data) x = 1e-3f;
  return opt;
}

double median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// Waits for rank 0 without spinning, so that rank 0's single-process reference has the cores.
void idle_barrier(MPI_Comm comm) {
  MPI_Request request = MPI_REQUEST_NULL;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  while (!done) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done) ::usleep(1000);
  }
}

int run(const Options& o, int rank, int ranks) {
  const auto full = build(o);
  simdoptim::ShardedOptimizer sharded(*full, MPI_COMM_WORLD, {o.bucket});
  std::vector<double> times;
  for (int s = 0; s < o.steps + 3; ++s) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    sharded.step();
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (s >= 3) times.push_back(dt);  // after the state's first touch
  }
  // The traffic alone with MPI's own blocking collectives on the same bytes (its reduction
  // order, not ours): what this machine's MPI takes to move them.
  const std::size_t share = (o.numel + static_cast<std::size_t>(ranks) - 1) / ranks;
  std::vector<float> grads(share * static_cast<std::size_t>(ranks), 1e-3f), mine(share);
  std::vector<float> params(grads.size());
  std::vector<double> comm_times;
  for (int s = 0; s < o.steps + 3; ++s) {
    MPI_Barrier(MPI_COMM_WORLD);
    const double t0 = MPI_Wtime();
    MPI_Reduce_scatter_block(grads.data(), mine.data(), static_cast<int>(share), MPI_FLOAT, MPI_SUM,
                             MPI_COMM_WORLD);
    MPI_Allgather(mine.data(), static_cast<int>(share), MPI_FLOAT, params.data(),
                  static_cast<int>(share), MPI_FLOAT, MPI_COMM_WORLD);
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(MPI_IN_PLACE, &dt, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    if (s >= 3) comm_times.push_back(dt);
  }
  unsigned long long state = sharded.state_bytes();
  MPI_Allreduce(MPI_IN_PLACE, &state, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);

  double single = 0.0;
  std::size_t single_state = 0;
  if (rank == 0) {
    const auto reference = build(o);
    std::vector<double> ref_times;
    for (int s = 0; s < o.steps + 3; ++s) {
      const double t0 = MPI_Wtime();
      reference->step();
      if (s >= 3) ref_times.push_back(MPI_Wtime() - t0);
    }
    single = median(ref_times);
    for (const simdoptim::ParamGroup& g : reference->param_groups())
      single_state += g.state_names().size() * g.padded_numel() * sizeof(float);
  }
  idle_barrier(MPI_COMM_WORLD);
  if (rank == 0) {
    const simdoptim::ShardedTraffic t = sharded.traffic();
    const double step = median(times);
    std::printf(
        "bench_sharded: %s, %zu params in %zu tensors, bucket %zu, %d thread(s) per rank\n"
        "ranks %d: sharded step %.3f ms (median of %d, slowest rank), single process %.3f ms, "
        "MPI_Reduce_scatter_block + MPI_Allgather alone %.3f ms\n"
        "  state per rank %llu B (single process %zu B, ratio %.3f)\n"
        "  per step rank 0 sends %zu B of gradients, receives %zu B of parameters "
        "(%.2f B per parameter)\n",
        o.optimizer.c_str(), o.numel, o.tensors, o.bucket, o.threads, ranks, step * 1e3, o.steps,
        single * 1e3, median(comm_times) * 1e3, state, single_state,
        static_cast<double>(state) / static_cast<double>(single_state), t.reduce_bytes_sent,
        t.gather_bytes_received,
        static_cast<double>(t.reduce_bytes_sent + t.gather_bytes_received) /
            static_cast<double>(o.numel));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return mpi_main(argc, argv, "bench_sharded",
                  [&](int rank, int ranks) { return run(parse_args(argc, argv), rank, ranks); });
}
