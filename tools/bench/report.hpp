#pragma once
// The human-readable table printed on the terminal.
#include <cstdio>
#include <vector>

#include "bench/machine.hpp"
#include "bench/runner.hpp"

namespace simdoptim::bench {

// Machine line, method notes and the column header.
void print_report_header(std::FILE* out, const Machine& machine, const TimingSettings& settings);
// Whether any subject of `result` (ours, the memory kernel, the scalar reference) has samples
// whose interquartile range exceeds `max_spread` times their median: too noisy to quote.
bool is_noisy(const Result& result, double max_spread);
// One table row; a noisy one (is_noisy) ends in "noisy".
void print_report_row(std::FILE* out, const Result& result, double max_spread);
// Notes that depend on the results (inexact memory patterns, huge pages off, noisy rows).
void print_report_footer(std::FILE* out, const std::vector<Result>& results, double max_spread);

}  // namespace simdoptim::bench
