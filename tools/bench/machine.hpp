#pragma once
// The machine description recorded with every result, so runs from different machines can be
// compared: CPU model, core count, transparent huge page mode, instruction sets, versions, load.
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace simdoptim::bench {

struct Machine {
  std::string cpu_model;          // /proc/cpuinfo "model name" (or "unknown")
  int logical_cpus = 0;           // std::thread::hardware_concurrency()
  std::string thp_mode;           // the bracketed word of transparent_hugepage/enabled
  std::vector<std::string> isas;  // supported_isas(), scalar first
  std::string default_isa;        // SIMDOPTIM_ISA or the best one
  std::string library_version;    // simdoptim::version()
  std::string compiler;           // the compiler that built this tool
  std::string kernel;             // uname: system, release, machine
  // /proc/loadavg's 1, 5 and 15 minute load averages when the run started, so that a chart or
  // a table can say how busy a shared machine was; nullopt when it cannot be read.
  std::optional<std::array<double, 3>> load_average;
};

Machine describe_machine();

// Fraction of the memory mapping that contains `address` which is backed by transparent huge
// pages (AnonHugePages / mapping size in /proc/self/smaps); nullopt when it cannot be read.
std::optional<double> huge_page_fraction(const void* address);

// MemAvailable of /proc/meminfo in bytes; nullopt when it cannot be read.
std::optional<std::size_t> available_memory_bytes();

}  // namespace simdoptim::bench
