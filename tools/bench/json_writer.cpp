#include "bench/json_writer.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace simdoptim::bench {
namespace {

// A streaming writer that places commas and indentation; values are written in call order.
class Json {
 public:
  explicit Json(std::ostream& out) : out_(out) {}

  Json& begin_object() { return open('{'); }
  Json& end_object() { return close('}'); }
  Json& begin_array() { return open('['); }
  Json& end_array() { return close(']'); }
  Json& key(std::string_view k) {
    separate();
    quote(k);
    out_ << ": ";
    after_key_ = true;
    return *this;
  }
  Json& value(std::string_view s) {
    separate();
    quote(s);
    return *this;
  }
  Json& value(const char* s) { return value(std::string_view(s)); }
  Json& value(const std::string& s) { return value(std::string_view(s)); }
  Json& value(bool b) {
    separate();
    out_ << (b ? "true" : "false");
    return *this;
  }
  Json& value(double d) {
    separate();
    if (!std::isfinite(d)) {
      out_ << "null";
    } else {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", d);
      out_ << buf;
    }
    return *this;
  }
  Json& value(std::size_t n) {
    separate();
    out_ << n;
    return *this;
  }
  Json& value(int n) {
    separate();
    out_ << n;
    return *this;
  }
  Json& value(std::nullopt_t) {
    separate();
    out_ << "null";
    return *this;
  }
  Json& value(const std::optional<double>& d) { return d ? value(*d) : value(std::nullopt); }
  Json& value(const std::vector<std::string>& items) {
    begin_array();
    for (const std::string& s : items) value(s);
    return end_array();
  }
  // A short array of numbers on one line.
  template <class T>
  Json& inline_array(const std::vector<T>& items) {
    separate();
    out_ << '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i) out_ << ", ";
      if constexpr (std::is_floating_point_v<T>) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(items[i]));
        out_ << buf;
      } else {
        out_ << items[i];
      }
    }
    out_ << ']';
    return *this;
  }

 private:
  Json& open(char c) {
    separate();
    out_ << c;
    first_ = true;
    ++depth_;
    return *this;
  }
  Json& close(char c) {
    --depth_;
    if (!first_) newline();
    out_ << c;
    first_ = false;
    if (depth_ == 0) out_ << '\n';
    return *this;
  }
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (depth_ == 0) return;
    if (!first_) out_ << ',';
    newline();
    first_ = false;
  }
  void newline() {
    out_ << '\n';
    for (int i = 0; i < depth_; ++i) out_ << "  ";
  }
  void quote(std::string_view s) {
    out_ << '"';
    for (const char c : s) {
      switch (c) {
        case '"':
          out_ << "\\\"";
          break;
        case '\\':
          out_ << "\\\\";
          break;
        case '\n':
          out_ << "\\n";
          break;
        case '\t':
          out_ << "\\t";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out_ << buf;
          } else {
            out_ << c;
          }
      }
    }
    out_ << '"';
  }

  std::ostream& out_;
  int depth_ = 0;
  bool first_ = true;
  bool after_key_ = false;
};

void write_series(Json& j, const Series& s, double bytes_per_element) {
  const Summary& m = s.summary;
  j.begin_object();
  j.key("kernel").value(s.kernel);
  j.key("steps_per_sample").value(s.steps_per_sample);
  j.key("median_ns_per_element").value(m.median);
  j.key("p25_ns_per_element").value(m.p25);
  j.key("p75_ns_per_element").value(m.p75);
  j.key("min_ns_per_element").value(m.min);
  j.key("max_ns_per_element").value(m.max);
  j.key("relative_spread").value(m.relative_spread());
  j.key("elements_per_second").value(m.median > 0 ? 1e9 / m.median : 0.0);
  j.key("gb_per_second").value(m.median > 0 ? bytes_per_element / m.median : 0.0);
  j.key("samples_ns_per_element").inline_array(s.ns_per_element);
  j.end_object();
}

void write_result(Json& j, const Result& r) {
  j.begin_object();
  j.key("workload").begin_object();
  j.key("name").value(r.workload);
  j.key("kind").value(r.workload_kind);
  j.key("source").value(r.workload_source);
  j.key("numel").value(r.numel);
  j.key("padded_numel").value(r.padded_numel);
  j.key("tensors").value(r.tensors);
  j.end_object();
  j.key("optimizer").value(r.optimizer);
  if (r.config_path.empty())
    j.key("config").value(std::nullopt);
  else
    j.key("config").value(r.config_path);
  j.key("groups").begin_array();
  for (const GroupInfo& g : r.groups) {
    j.begin_object();
    j.key("options").begin_object();
    for (const auto& [k, v] : g.options.items()) j.key(k).value(v);
    j.end_object();
    j.key("numel").value(g.numel);
    j.key("padded_numel").value(g.padded_numel);
    j.key("shapes").begin_array();
    for (const Shape& s : g.shapes) j.inline_array(s);
    j.end_array();
    j.end_object();
  }
  j.end_array();
  j.key("rounds").value(r.rounds);
  j.key("isa").value(isa_name(r.isa));
  j.key("threads").value(r.threads);
  j.key("state_arrays").value(r.state_arrays);
  j.key("bytes_per_element").value(r.bytes_per_element);
  j.key("huge_pages").begin_object();
  j.key("requested").value(r.huge_pages_requested);
  j.key("param_arena_fraction").value(r.huge_page_fraction);
  j.key("on").value(r.huge_page_fraction.value_or(0.0) >= 0.5);
  j.end_object();
  j.key("simdoptim");
  write_series(j, r.simdoptim, r.bytes_per_element);
  j.key("memory");
  write_series(j, r.memory, r.memory_bytes_per_element);
  j.key("memory_bytes_per_element").value(r.memory_bytes_per_element);
  j.key("memory_pattern_exact").value(r.memory_exact);
  j.key("scalar");
  if (r.scalar)
    write_series(j, *r.scalar, r.bytes_per_element);
  else
    j.value(std::nullopt);
  j.key("fraction_of_memory_limit").value(r.fraction_of_memory_limit());
  j.key("speedup_vs_scalar").value(r.speedup_vs_scalar());
  j.end_object();
}

}  // namespace

void write_json(const std::string& path, const Machine& m, const TimingSettings& s,
                const std::vector<std::string>& command_line, const std::vector<Result>& results) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  Json j(out);
  j.begin_object();
  j.key("schema").value("simdoptim-bench/1");
  j.key("command_line").value(command_line);
  j.key("machine").begin_object();
  j.key("cpu_model").value(m.cpu_model);
  j.key("logical_cpus").value(m.logical_cpus);
  j.key("transparent_hugepage").value(m.thp_mode);
  j.key("isas").value(m.isas);
  j.key("default_isa").value(m.default_isa);
  j.key("library_version").value(m.library_version);
  j.key("compiler").value(m.compiler);
  j.key("kernel").value(m.kernel);
  j.key("load_average");
  if (m.load_average)
    j.inline_array(std::vector<double>(m.load_average->begin(), m.load_average->end()));
  else
    j.value(std::nullopt);
  j.end_object();
  j.key("settings").begin_object();
  j.key("warmup").value(s.warmup);
  j.key("reps").value(s.reps);
  j.key("scalar_reps").value(s.scalar_reps);
  j.key("rounds").value(s.rounds);
  j.key("min_sample_ms").value(s.min_sample_ms);
  j.key("scalar_reference").value(s.scalar_reference);
  j.end_object();
  j.key("results").begin_array();
  for (const Result& r : results) write_result(j, r);
  j.end_array();
  j.end_object();
  if (!out.flush()) throw std::runtime_error("cannot write '" + path + "'");
}

}  // namespace simdoptim::bench
