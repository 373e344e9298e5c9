#pragma once
// Order statistics of a sample set (timings are skewed by the shared machine, so medians and
// quartiles rather than means and standard deviations).
#include <vector>

namespace simdoptim::bench {

struct Summary {
  double median = 0;
  double p25 = 0;  // first quartile (linear interpolation, as numpy's default)
  double p75 = 0;  // third quartile
  double min = 0;
  double max = 0;
  // Half the interquartile range relative to the median: the "±" of the report.
  double relative_spread() const { return median > 0 ? (p75 - p25) / 2 / median : 0; }
};

// Summary of `samples`; all zeros when empty.
Summary summarize(std::vector<double> samples);

}  // namespace simdoptim::bench
