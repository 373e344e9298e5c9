#pragma once
// Writes the --csv file: one row per sample (long format, ready for pandas or a spreadsheet),
// each row carrying its configuration and the machine columns.
#include <string>
#include <vector>

#include "bench/machine.hpp"
#include "bench/runner.hpp"

namespace simdoptim::bench {

// The header row (also checked by the tests).
extern const char* const kCsvHeader;

// Throws std::runtime_error when the file cannot be written.
void write_csv(const std::string& path, const Machine& machine, const std::vector<Result>& results);

}  // namespace simdoptim::bench
