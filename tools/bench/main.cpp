// simdoptim-bench: optimizer step timings against same-run references. Reference:
// docs/benchmarks.md, section "simdoptim-bench", or --help.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench/csv_writer.hpp"
#include "bench/json_writer.hpp"
#include "bench/machine.hpp"
#include "bench/options.hpp"
#include "bench/report.hpp"
#include "bench/runner.hpp"

namespace {

using namespace simdoptim::bench;

// Exit codes: 0 success, 1 a failure while running (allocation, output file), 2 a bad argument.
int run(const BenchOptions& o, const std::vector<std::string>& command_line) {
  const Machine machine = describe_machine();
  print_report_header(stdout, machine, o.timing);
  const bool progress = !o.quiet && isatty(STDERR_FILENO) == 1;
  std::vector<Result> results;
  const std::size_t total =
      o.workloads.size() * o.recipes.size() * o.isas.size() * o.threads.size();
  for (const Workload& workload : o.workloads)
    for (const OptimizerRecipe& recipe : o.recipes)
      for (simdoptim::Isa isa : o.isas)
        for (int threads : o.threads) {
          if (progress)
            std::fprintf(stderr, "[%zu/%zu] %s %s %s %d thread(s)\r", results.size() + 1, total,
                         workload.name.c_str(),
                         recipe.config ? recipe.config_path.c_str() : recipe.name.c_str(),
                         simdoptim::isa_name(isa), threads);
          results.push_back(run_benchmark(workload, recipe, isa, threads, o.timing));
          if (progress) std::fprintf(stderr, "\033[K");
          print_report_row(stdout, results.back(), o.noisy_spread);
        }
  print_report_footer(stdout, results, o.noisy_spread);
  // Also on stderr, which stays on the terminal when the table goes to a file.
  const auto noisy = std::count_if(results.begin(), results.end(),
                                   [&](const Result& r) { return is_noisy(r, o.noisy_spread); });
  if (noisy > 0)
    std::fprintf(stderr,
                 "simdoptim-bench: warning: %zu of %zu measurements are too noisy to quote "
                 "(samples spread more than %.0f%%); see the rows marked \"noisy\"\n",
                 static_cast<std::size_t>(noisy), results.size(), 100 * o.noisy_spread);
  if (!o.json_path.empty()) write_json(o.json_path, machine, o.timing, command_line, results);
  if (!o.csv_path.empty()) write_csv(o.csv_path, machine, results);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<BenchOptions> options;
  try {
    options = parse_options(argc, argv);
    if (!options) return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simdoptim-bench: error: %s\n(see simdoptim-bench --help)\n", e.what());
    return 2;
  }
  try {
    return run(*options, std::vector<std::string>(argv, argv + argc));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "\nsimdoptim-bench: error: %s\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "\nsimdoptim-bench: error: out of memory (try a smaller --numel)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\nsimdoptim-bench: error: %s\n", e.what());
    return 1;
  }
}
