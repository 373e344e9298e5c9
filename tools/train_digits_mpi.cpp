// train_digits_mpi: the digits trainer data-parallel over MPI (mpirun -np K). Every rank holds the
// model, computes the gradient of its 1/K of each batch, and a ShardedOptimizer averages the
// gradients and keeps on each rank the optimizer state of 1/K of the parameters.
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "digits/dataset.hpp"
#include "digits/mlp.hpp"
#include "mpi_main.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/build_scheduler.hpp"
#include "simdoptim/config.hpp"
#include "simdoptim/sharded_optimizer.hpp"

namespace {

constexpr double kTestFraction = 0.2;

struct Options {
  std::string config = SIMDOPTIM_SOURCE_DIR "/tools/configs/digits.yaml";
  std::string data = SIMDOPTIM_SOURCE_DIR "/tools/data/digits.csv";
  int epochs = 0;  // 0: TRAIN.EPOCHS
};

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc)
      throw std::invalid_argument(
          "usage: train_digits_mpi [--config PATH] "
          "[--data PATH] [--epochs N]");
    const std::string value = argv[++i];
    if (arg == "--config")
      o.config = value;
    else if (arg == "--data")
      o.data = value;
    else if (arg == "--epochs")
      o.epochs = std::stoi(value);
    else
      throw std::invalid_argument("unknown option '" + arg + "'");
  }
  return o;
}

// The rank's gradient scaled so that the ranks' average is the whole batch's mean gradient
// when the batch does not split evenly: rows_r / rows * K.
void scale_grads(simdoptim::Optimizer& optimizer, double factor) {
  if (factor == 1.0) return;
  for (simdoptim::ParamGroup& g : optimizer.param_groups())
    for (std::size_t i = 0; i < g.size(); ++i)
      for (float& x : g.grad(i).data) x = static_cast<float>(x * factor);
}

int run(const Options& opts, int rank, int ranks) {
  simdoptim::Config config = simdoptim::load_config(opts.config);
  if (opts.epochs > 0) config.train.epochs = opts.epochs;
  // Clipping the average needs its norm before the step; the sharded step has no such pass.
  const double clip = config.train.clip_grad;
  config.train.clip_grad = 0.0;
  const digits::Dataset all = digits::load_csv(opts.data);
  const auto seed = static_cast<std::uint64_t>(config.seed);
  const digits::Split data = digits::split(all, kTestFraction, seed);

  digits::Mlp model({static_cast<int>(digits::Dataset::kFeatures), 128, digits::Dataset::kClasses});
  const simdoptim::ModelSpec spec = model.spec();
  const std::unique_ptr<simdoptim::Optimizer> optimizer =
      simdoptim::build_optimizer(config, spec, simdoptim::RuntimeOptions{std::nullopt, 1});
  model.bind(*optimizer, seed);  // the same seed on every rank: the same initial model
  simdoptim::ShardedOptimizer sharded(*optimizer, MPI_COMM_WORLD);
  const auto batch_size = static_cast<std::size_t>(config.data.batch_size);
  const std::size_t batches = (data.train.size() + batch_size - 1) / batch_size;
  const std::unique_ptr<simdoptim::Scheduler> scheduler =
      simdoptim::build_scheduler(config, *optimizer, static_cast<std::int64_t>(batches));
  if (rank == 0)
    std::printf(
        "train_digits_mpi: %d ranks, %s, %zu params, batch %zu (%zu per rank), %d epochs%s\n",
        ranks, optimizer->name().data(), spec.trainable_numel(), batch_size,
        batch_size / static_cast<std::size_t>(ranks), config.train.epochs,
        clip > 0.0 ? ", CLIP_GRAD ignored" : "");

  std::mt19937_64 rng(seed + 1);  // the same order on every rank
  const double start = MPI_Wtime();
  for (int epoch = 1; epoch <= config.train.epochs; ++epoch) {
    const std::vector<std::size_t> order = digits::permutation(data.train.size(), rng);
    double loss_sum = 0.0;
    for (std::size_t b = 0; b < batches; ++b) {
      const std::size_t first = b * batch_size;
      const std::size_t rows = std::min(batch_size, order.size() - first);
      const auto k = static_cast<std::size_t>(ranks);
      const auto r = static_cast<std::size_t>(rank);
      const std::size_t lo = first + rows * r / k;
      const std::size_t hi = first + rows * (r + 1) / k;
      optimizer->zero_grad();
      const digits::Score s = model.train_batch(data.train, std::span(order).subspan(lo, hi - lo));
      scale_grads(*optimizer, static_cast<double>((hi - lo) * k) / static_cast<double>(rows));
      sharded.step();
      scheduler->step();
      loss_sum += s.loss_sum;
    }
    double total = 0.0;
    MPI_Reduce(&loss_sum, &total, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
    if (rank == 0 && (epoch == config.train.epochs || epoch % 10 == 0))
      std::printf("epoch %3d/%d  train loss %.4f  test acc %5.1f%%\n", epoch, config.train.epochs,
                  total / static_cast<double>(data.train.size()),
                  100.0 * model.evaluate(data.test).accuracy());
  }
  const double seconds = MPI_Wtime() - start;
  // Every rank's state, against what one process keeps (AdamW: exp_avg and exp_avg_sq).
  std::size_t single = 0;
  for (const simdoptim::ParamGroup& g : optimizer->param_groups())
    single += 2 * g.padded_numel() * sizeof(float);
  std::vector<unsigned long long> bytes(static_cast<std::size_t>(ranks));
  const unsigned long long mine = sharded.state_bytes();
  MPI_Gather(&mine, 1, MPI_UNSIGNED_LONG_LONG, bytes.data(), 1, MPI_UNSIGNED_LONG_LONG, 0,
             MPI_COMM_WORLD);
  if (rank == 0) {
    for (int r = 0; r < ranks; ++r)
      std::printf("rank %d: optimizer state %llu bytes (one process: %zu)\n", r,
                  bytes[static_cast<std::size_t>(r)], single);
    const simdoptim::ShardedTraffic t = sharded.traffic();
    std::printf(
        "done: test accuracy %.1f%%, %.2f s; per step rank 0 sent %zu and received %zu "
        "bytes\n",
        100.0 * model.evaluate(data.test).accuracy(), seconds, t.reduce_bytes_sent,
        t.gather_bytes_received);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return mpi_main(argc, argv, "train_digits_mpi",
                  [&](int rank, int ranks) { return run(parse_args(argc, argv), rank, ranks); });
}
