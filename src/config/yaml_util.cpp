#include "config/yaml_util.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace simdoptim::detail {

std::string where(std::string_view source, const YAML::Node& node) {
  std::string out(source);
  const YAML::Mark mark = node.Mark();
  if (!mark.is_null()) {
    out += ':' + std::to_string(mark.line + 1) + ':' + std::to_string(mark.column + 1);
  }
  return out + ": ";
}

std::string value_text(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "null";
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out.SetMapFormat(YAML::Flow);
  out << node;
  return out.c_str();
}

YAML::Node parse_yaml(std::string_view text, std::string_view source) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    std::string out(source);
    if (!e.mark.is_null()) {
      out += ':' + std::to_string(e.mark.line + 1) + ':' + std::to_string(e.mark.column + 1);
    }
    throw std::invalid_argument(out + ": YAML syntax error: " + e.msg);
  }
}

std::string read_text_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::invalid_argument("cannot read " + std::string(what) + " '" + path +
                                "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j < row.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      const std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({up + 1, row[j - 1] + 1, substitute});
      diagonal = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string closest_match(std::string_view key, const std::vector<std::string>& candidates) {
  std::string best;
  // A typo is at most a third of the key wrong (and at least one edit is allowed).
  std::size_t best_distance = std::max<std::size_t>(1, key.size() / 3) + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t d = edit_distance(key, candidate);
    if (d < best_distance) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

void throw_unknown_key(std::string_view source, std::string_view kind, const YAML::Node& key,
                       std::string_view section, const std::vector<std::string>& valid) {
  const std::string name = key.IsScalar() ? key.Scalar() : value_text(key);
  std::string message = where(source, key) + "unknown " + std::string(kind) + " key '" +
                        join_path(section, name) + "'";
  if (const std::string guess = closest_match(name, valid); !guess.empty()) {
    message += " (did you mean '" + join_path(section, guess) + "'?)";
  }
  message += "; valid keys";
  if (!section.empty()) message += " under " + std::string(section);
  throw std::invalid_argument(message + ": " + join(valid));
}

void throw_bad_value(std::string_view source, std::string_view kind, const YAML::Node& node,
                     std::string_view path, std::string_view expected) {
  throw std::invalid_argument(where(source, node) + std::string(kind) + " key " +
                              std::string(path) + " = " + value_text(node) + ": expected " +
                              std::string(expected));
}

std::string join_path(std::string_view section, std::string_view key) {
  if (section.empty()) return std::string(key);
  return std::string(section) + '.' + std::string(key);
}

}  // namespace simdoptim::detail
