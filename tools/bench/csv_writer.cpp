#include "bench/csv_writer.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace simdoptim::bench {
namespace {

// RFC 4180: quote a field that holds a comma, a quote or a line break.
std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace

const char* const kCsvHeader =
    "workload,numel,optimizer,config,isa,threads,bytes_per_element,subject,kernel,sample,"
    "steps_per_sample,ns_per_element,gb_per_second,huge_pages,cpu_model,library_version";

void write_csv(const std::string& path, const Machine& m, const std::vector<Result>& results) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  out << kCsvHeader << '\n';
  for (const Result& r : results) {
    auto rows = [&](const char* subject, const Series& s, double bytes) {
      for (std::size_t i = 0; i < s.ns_per_element.size(); ++i) {
        char num[64];
        std::snprintf(num, sizeof num, "%.9g,%.9g", s.ns_per_element[i],
                      bytes / s.ns_per_element[i]);
        out << field(r.workload) << ',' << r.numel << ',' << r.optimizer << ','
            << field(r.config_path) << ',' << isa_name(r.isa) << ',' << r.threads << ','
            << r.bytes_per_element << ',' << subject << ',' << field(s.kernel) << ',' << i << ','
            << s.steps_per_sample << ',' << num << ','
            << (r.huge_page_fraction.value_or(0) >= 0.5 ? "on" : "off") << ',' << field(m.cpu_model)
            << ',' << m.library_version << '\n';
      }
    };
    rows("simdoptim", r.simdoptim, r.bytes_per_element);
    rows("memory", r.memory, r.memory_bytes_per_element);
    if (r.scalar) rows("scalar", *r.scalar, r.bytes_per_element);
  }
  if (!out.flush()) throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace simdoptim::bench
