#include "bench/json_writer.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

namespace simdoptim::bench {
namespace {

// Keys in the order docs/benchmarks.md lists them.
using Json = nlohmann::ordered_json;

// null for an absent or non-finite value (nlohmann writes NaN and infinity as null too).
Json number_or_null(const std::optional<double>& value) {
  return value ? Json(*value) : Json(nullptr);
}

Json series_json(const Series& s, double bytes_per_element) {
  const Summary& m = s.summary;
  return {
      {"kernel", s.kernel},
      {"steps_per_sample", s.steps_per_sample},
      {"median_ns_per_element", m.median},
      {"p25_ns_per_element", m.p25},
      {"p75_ns_per_element", m.p75},
      {"min_ns_per_element", m.min},
      {"max_ns_per_element", m.max},
      {"relative_spread", m.relative_spread()},
      {"elements_per_second", m.median > 0 ? 1e9 / m.median : 0.0},
      {"gb_per_second", m.median > 0 ? bytes_per_element / m.median : 0.0},
      {"samples_ns_per_element", s.ns_per_element},
  };
}

Json result_json(const Result& r) {
  Json groups = Json::array();
  for (const GroupInfo& g : r.groups) {
    Json options = Json::object();
    for (const auto& [key, value] : g.options.items()) options[key] = value;
    groups.push_back({{"options", options},
                      {"numel", g.numel},
                      {"padded_numel", g.padded_numel},
                      {"shapes", g.shapes}});
  }
  return {
      {"workload",
       {{"name", r.workload},
        {"kind", r.workload_kind},
        {"decayed_state", r.decayed_state},
        {"source", r.workload_source},
        {"numel", r.numel},
        {"padded_numel", r.padded_numel},
        {"tensors", r.tensors}}},
      {"optimizer", r.optimizer},
      {"config", r.config_path.empty() ? Json(nullptr) : Json(r.config_path)},
      {"groups", groups},
      {"rounds", r.rounds},
      {"isa", isa_name(r.isa)},
      {"threads", r.threads},
      {"state_arrays", r.state_arrays},
      {"bytes_per_element", r.bytes_per_element},
      {"huge_pages",
       {{"requested", r.huge_pages_requested},
        {"param_arena_fraction", number_or_null(r.huge_page_fraction)},
        {"on", r.huge_page_fraction.value_or(0.0) >= 0.5}}},
      {"simdoptim", series_json(r.simdoptim, r.bytes_per_element)},
      {"memory", series_json(r.memory, r.memory_bytes_per_element)},
      {"memory_bytes_per_element", r.memory_bytes_per_element},
      {"memory_pattern_exact", r.memory_exact},
      {"scalar", r.scalar ? series_json(*r.scalar, r.bytes_per_element) : Json(nullptr)},
      {"fraction_of_memory_limit", number_or_null(r.fraction_of_memory_limit())},
      {"speedup_vs_scalar", number_or_null(r.speedup_vs_scalar())},
  };
}

}  // namespace

void write_json(const std::string& path, const Machine& m, const TimingSettings& s,
                const std::vector<std::string>& command_line, const std::vector<Result>& results) {
  Json machine = {
      {"cpu_model", m.cpu_model},
      {"logical_cpus", m.logical_cpus},
      {"transparent_hugepage", m.thp_mode},
      {"isas", m.isas},
      {"default_isa", m.default_isa},
      {"library_version", m.library_version},
      {"compiler", m.compiler},
      {"kernel", m.kernel},
      {"load_average", m.load_average ? Json(*m.load_average) : Json(nullptr)},
  };
  Json settings = {
      {"warmup", s.warmup},
      {"reps", s.reps},
      {"scalar_reps", s.scalar_reps},
      {"rounds", s.rounds},
      {"min_sample_ms", s.min_sample_ms},
      {"scalar_reference", s.scalar_reference},
  };
  Json all = Json::array();
  for (const Result& r : results) all.push_back(result_json(r));
  const Json doc = {
      {"schema", "simdoptim-bench/1"},
      {"command_line", command_line},
      {"machine", machine},
      {"settings", settings},
      {"results", all},
  };
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  // Invalid UTF-8 (a CPU model or path in another encoding) is replaced, never an exception.
  out << doc.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
  if (!out.flush()) throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace simdoptim::bench
