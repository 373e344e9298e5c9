#include "bench/report.hpp"

#include <algorithm>
#include <string>

namespace simdoptim::bench {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : " ") + s;
  return out;
}

// The options that make the row differ from the optimizer's plain defaults worth showing.
std::string label(const Result& r) {
  std::string name = r.optimizer;
  const GroupOptions& o = r.groups.front().options;
  if (o.get_or("momentum", 0) != 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " m%g", o.get("momentum"));
    name += buf;
  }
  if (o.get_or("nesterov", 0) != 0) name += " nesterov";
  if (o.get_or("amsgrad", 0) != 0) name += " amsgrad";
  if (r.groups.size() > 1) name += " (" + std::to_string(r.groups.size()) + " groups)";
  return name;
}

}  // namespace

void print_report_header(std::FILE* out, const Machine& m, const TimingSettings& s) {
  std::fprintf(out, "simdoptim %s | %s | %d logical CPUs | THP %s | isas: %s",
               m.library_version.c_str(), m.cpu_model.c_str(), m.logical_cpus, m.thp_mode.c_str(),
               join(m.isas).c_str());
  if (m.load_average)
    std::fprintf(out, " | load average %.2f %.2f %.2f", (*m.load_average)[0], (*m.load_average)[1],
                 (*m.load_average)[2]);
  std::fprintf(out, "\n");
  std::fprintf(out,
               "ns/el: median of %d samples (scalar reference: %s), interleaved with the "
               "references' (rounds: %s); +- is half the interquartile range.\n"
               "roof: memory-only kernel with the same access pattern, arrays and threads, same "
               "run; %%roof = its time / ours.\n"
               "GB/s: bytes/element (B/el) x elements/s; B/el = 12 + 8 x state arrays (read p, "
               "g, state; write p, state).\n\n",
               s.reps, s.scalar_reference ? std::to_string(s.scalar_reps).c_str() : "off",
               s.rounds == 0 ? "every sample above 64 MiB/step, else 2 blocks"
                             : std::to_string(s.rounds).c_str());
  std::fprintf(out, "%-12s %-18s %-6s %3s %4s %8s %6s %7s %6s %9s %5s %10s %7s\n", "workload",
               "optimizer", "isa", "thr", "B/el", "ns/el", "+-", "Gel/s", "GB/s", "roof ns/el",
               "%roof", "scalar ns", "xscalar");
}

bool is_noisy(const Result& r, double max_spread) {
  const auto spread = [](const Summary& m) {
    return m.median > 0 ? (m.p75 - m.p25) / m.median : 0;
  };
  return spread(r.simdoptim.summary) > max_spread || spread(r.memory.summary) > max_spread ||
         (r.scalar && spread(r.scalar->summary) > max_spread);
}

void print_report_row(std::FILE* out, const Result& r, double max_spread) {
  const double ns = r.simdoptim.summary.median;
  const double roof = r.memory.summary.median * r.bytes_per_element / r.memory_bytes_per_element;
  std::string scalar = "-", speedup = "-";
  if (r.scalar) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", r.scalar->summary.median);
    scalar = buf;
    std::snprintf(buf, sizeof buf, "%.1fx", *r.speedup_vs_scalar());
    speedup = buf;
  }
  std::fprintf(
      out, "%-12s %-18s %-6s %3d %4.0f %8.3f %5.1f%% %7.2f %6.1f %9.3f%s %4.0f%% %10s %7s%s\n",
      r.workload.c_str(), label(r).c_str(), isa_name(r.isa), r.threads, r.bytes_per_element, ns,
      100 * r.simdoptim.summary.relative_spread(), 1 / ns, r.bytes_per_element / ns, roof,
      r.memory_exact ? " " : "*", 100 * r.fraction_of_memory_limit(), scalar.c_str(),
      speedup.c_str(), is_noisy(r, max_spread) ? "  noisy" : "");
  std::fflush(out);
}

void print_report_footer(std::FILE* out, const std::vector<Result>& results, double max_spread) {
  const auto noisy = std::count_if(results.begin(), results.end(),
                                   [&](const Result& r) { return is_noisy(r, max_spread); });
  if (noisy > 0)
    std::fprintf(out,
                 "warning: %zu of %zu rows are too noisy to quote (marked \"noisy\": the "
                 "interquartile range of their samples, ours or a reference's, exceeds %.0f%% of "
                 "the median); re-run with more --reps or on a quieter machine.\n",
                 static_cast<std::size_t>(noisy), results.size(), 100 * max_spread);
  const bool inexact =
      std::any_of(results.begin(), results.end(), [](const Result& r) { return !r.memory_exact; });
  if (inexact)
    std::fprintf(out,
                 "* no memory kernel has this pattern (3+ state arrays): adam_pattern's time "
                 "scaled by the byte ratio.\n");
  // Each decayed workload against its normal-state run: late training should cost no more.
  for (const Result& d : results) {
    if (!d.decayed_state) continue;
    for (const Result& r : results)
      if (!r.decayed_state && d.workload == r.workload + " decayed" && r.optimizer == d.optimizer &&
          r.isa == d.isa && r.threads == d.threads && r.simdoptim.summary.median > 0)
        std::fprintf(out,
                     "decayed state: %s %s %s %d thread(s): step %.2fx the normal-state step\n",
                     r.workload.c_str(), r.optimizer.c_str(), isa_name(r.isa), r.threads,
                     d.simdoptim.summary.median / r.simdoptim.summary.median);
  }
  for (const Result& r : results) {
    if (r.padded_numel * 4 >= (std::size_t{2} << 20) && r.huge_page_fraction &&
        *r.huge_page_fraction < 0.5) {
      std::fprintf(out,
                   "note: %s's parameter arena is mostly not on huge pages (%.0f%%); TLB misses "
                   "may cost bandwidth.\n",
                   r.workload.c_str(), 100 * *r.huge_page_fraction);
      break;
    }
  }
}

}  // namespace simdoptim::bench
