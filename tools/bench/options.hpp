#pragma once
// The command line of simdoptim-bench (reference: docs/benchmarks.md, or --help).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench/optimizer_factory.hpp"
#include "bench/runner.hpp"
#include "bench/workload.hpp"
#include "simdoptim/isa.hpp"

namespace simdoptim::bench {

struct BenchOptions {
  std::vector<Workload> workloads;
  std::vector<OptimizerRecipe> recipes;
  std::vector<Isa> isas;
  std::vector<int> threads;
  TimingSettings timing;
  std::string json_path;
  std::string csv_path;
  bool quiet = false;
  // A row whose samples' interquartile range exceeds this fraction of their median (ours, the
  // memory kernel's or the scalar reference's) is flagged as too noisy to quote.
  double noisy_spread = 0.2;
  bool default_run = false;  // no workload, optimizer, config or option given
};

// Parses and validates argv. Returns nullopt after printing --help or --version (exit 0);
// throws std::invalid_argument with a message for the user on any bad argument.
std::optional<BenchOptions> parse_options(int argc, char** argv);

}  // namespace simdoptim::bench
