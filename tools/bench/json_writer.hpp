#pragma once
// Writes the --json file: the machine, the settings and every result with every sample. Schema
// "simdoptim-bench/1", described in docs/benchmarks.md.
#include <string>
#include <vector>

#include "bench/machine.hpp"
#include "bench/runner.hpp"

namespace simdoptim::bench {

// Throws std::runtime_error when the file cannot be written.
void write_json(const std::string& path, const Machine& machine, const TimingSettings& settings,
                const std::vector<std::string>& command_line, const std::vector<Result>& results);

}  // namespace simdoptim::bench
