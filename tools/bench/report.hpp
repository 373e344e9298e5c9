#pragma once
// The human-readable table printed on the terminal.
#include <cstdio>
#include <vector>

#include "bench/machine.hpp"
#include "bench/runner.hpp"

namespace simdoptim::bench {

// Machine line, method notes and the column header.
void print_report_header(std::FILE* out, const Machine& machine, const TimingSettings& settings);
// One table row.
void print_report_row(std::FILE* out, const Result& result);
// Notes that depend on the results (inexact memory patterns, huge pages off).
void print_report_footer(std::FILE* out, const std::vector<Result>& results);

}  // namespace simdoptim::bench
