#pragma once
// Times one configuration (workload x optimizer x instruction set x thread count) against its
// two same-run references, the memory-only kernel and the scalar reference build.
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "bench/optimizer_factory.hpp"
#include "bench/stats.hpp"
#include "bench/workload.hpp"
#include "simdoptim/group_options.hpp"
#include "simdoptim/isa.hpp"
#include "simdoptim/types.hpp"

namespace simdoptim::bench {

struct TimingSettings {
  int warmup = 2;       // steps before the first sample (the last one calibrates steps_per_sample)
  int reps = 10;        // timed samples of the optimizer and the memory kernel
  int scalar_reps = 5;  // timed samples of the (slow) scalar reference
  // Samples are taken in this many interleaved rounds; 0: every sample interleaved when a step
  // moves more than 64 MiB, else 2 blocks.
  int rounds = 0;
  double min_sample_ms = 2.0;  // a sample runs enough steps to last at least this long
  bool scalar_reference = true;
};

// The samples of one subject: the optimizer, the memory kernel or the scalar build.
struct Series {
  std::string kernel;  // optimizer name, or the memory kernel's name
  std::size_t steps_per_sample = 1;
  std::vector<double> ns_per_element;  // one per sample, in the order taken
  Summary summary;
};

struct GroupInfo {
  GroupOptions options;
  std::vector<Shape> shapes;
  std::size_t numel = 0;
  std::size_t padded_numel = 0;
};

struct Result {
  std::string workload;
  std::string workload_kind;
  std::string workload_source;
  bool decayed_state = false;  // the workload's state was decayed to subnormal values
  std::size_t numel = 0;
  std::size_t padded_numel = 0;
  std::size_t tensors = 0;
  std::vector<GroupInfo> groups;
  std::string optimizer;
  std::string config_path;
  Isa isa = Isa::scalar;
  int threads = 1;
  std::vector<std::string> state_arrays;
  double bytes_per_element = 0;
  bool huge_pages_requested = false;
  std::optional<double> huge_page_fraction;  // of the parameter arena's mapping
  Series simdoptim;
  Series memory;
  // True when the memory kernel's pattern is the optimizer's; otherwise its times are scaled
  // by bytes_per_element / memory_bytes_per_element.
  bool memory_exact = true;
  double memory_bytes_per_element = 0;
  std::optional<Series> scalar;  // absent with --no-scalar or when isa is scalar
  int rounds = 0;                // interleaved rounds the samples were taken in

  // memory median / optimizer median: 1 means at the memory limit.
  double fraction_of_memory_limit() const;
  // scalar median / optimizer median.
  std::optional<double> speedup_vs_scalar() const;
};

Result run_benchmark(const Workload& workload, const OptimizerRecipe& recipe, Isa isa, int threads,
                     const TimingSettings& settings);

}  // namespace simdoptim::bench
