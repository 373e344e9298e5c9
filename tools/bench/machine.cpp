#include "bench/machine.hpp"

#include <sys/utsname.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "simdoptim/isa.hpp"
#include "simdoptim/version.hpp"

namespace simdoptim::bench {
namespace {

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t");
  const auto last = s.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? "" : s.substr(first, last - first + 1);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  // x86 names the model; aarch64 kernels often only give the implementer and part numbers.
  for (const char* key : {"model name", "Model", "CPU part"}) {
    in.clear();
    in.seekg(0);
    while (std::getline(in, line)) {
      const auto colon = line.find(':');
      if (colon != std::string::npos && trim(line.substr(0, colon)) == key)
        return trim(line.substr(colon + 1));
    }
  }
  return "unknown";
}

std::string thp_mode() {
  std::ifstream in("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string text;
  std::getline(in, text);
  const auto open = text.find('['), close = text.find(']');
  if (open == std::string::npos || close == std::string::npos) return "unknown";
  return text.substr(open + 1, close - open - 1);
}

std::string compiler() {
#if defined(__clang__)
  return "clang " __clang_version__;
#elif defined(__GNUC__)
  return "gcc " __VERSION__;
#else
  return "unknown";
#endif
}

std::optional<std::array<double, 3>> load_average() {
  std::ifstream in("/proc/loadavg");
  std::array<double, 3> load{};
  if (!(in >> load[0] >> load[1] >> load[2])) return std::nullopt;
  return load;
}

}  // namespace

Machine describe_machine() {
  Machine m;
  m.cpu_model = cpu_model();
  m.logical_cpus = static_cast<int>(std::thread::hardware_concurrency());
  m.thp_mode = thp_mode();
  for (Isa isa : supported_isas()) m.isas.emplace_back(isa_name(isa));
  m.default_isa = isa_name(default_isa());
  m.library_version = version();
  m.compiler = compiler();
  if (utsname u{}; uname(&u) == 0)
    m.kernel = std::string(u.sysname) + " " + u.release + " " + u.machine;
  m.load_average = load_average();
  return m;
}

std::optional<double> huge_page_fraction(const void* address) {
  std::ifstream in("/proc/self/smaps");
  if (!in) return std::nullopt;
  const auto target = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  bool inside = false;
  std::uintptr_t size = 0;
  while (std::getline(in, line)) {
    unsigned long long lo = 0, hi = 0;
    // A mapping header is "lo-hi perms ...", a field is "Name:   value kB".
    if (std::sscanf(line.c_str(), "%llx-%llx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      inside = lo <= target && target < hi;
      size = static_cast<std::uintptr_t>(hi - lo);
      continue;
    }
    unsigned long long kib = 0;
    if (inside && std::sscanf(line.c_str(), "AnonHugePages: %llu kB", &kib) == 1)
      return size == 0 ? 0.0 : static_cast<double>(kib * 1024) / static_cast<double>(size);
  }
  return std::nullopt;
}

std::optional<std::size_t> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %llu kB", &kib) == 1)
      return static_cast<std::size_t>(kib) * 1024;
  }
  return std::nullopt;
}

}  // namespace simdoptim::bench
