#include "simdoptim/config.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <variant>

#include "config/text.hpp"
#include "config/yaml_util.hpp"
#include "simdoptim/build_optimizer.hpp"
#include "simdoptim/build_scheduler.hpp"

namespace simdoptim {
inline namespace v1 {
namespace {

constexpr std::string_view kKind = "config";
constexpr double kInf = std::numeric_limits<double>::infinity();

/// An interval of allowed values; the bounds are closed unless marked open.
struct Range {
  double lo = -kInf;
  double hi = kInf;
  bool lo_open = false;
  bool hi_open = false;

  bool contains(double v) const {
    return std::isfinite(v) && (lo_open ? v > lo : v >= lo) && (hi_open ? v < hi : v <= hi);
  }
  std::string describe() const {
    if (hi == kInf) return (lo_open ? "> " : ">= ") + detail::format_number(lo);
    return std::string("in ") + (lo_open ? "(" : "[") + detail::format_number(lo) + ", " +
           detail::format_number(hi) + (hi_open ? ")" : "]");
  }
};

constexpr Range kNonNegative{0.0};
constexpr Range kPositive{0.0, kInf, true};
constexpr Range kAtLeastOne{1.0};
constexpr Range kBeta{0.0, 1.0, false, true};
constexpr Range kLayerDecay{0.0, 1.0, true, false};
constexpr Range kUnitClosed{0.0, 1.0};

template <class T>
using Access = T& (*)(Config&);

/// One config key: its full path, where it lives in Config, and its allowed values.
struct Field {
  std::string_view path;
  std::variant<Access<int>, Access<double>, Access<bool>, Access<std::string>,
               Access<std::array<double, 2>>, Access<std::vector<int>>,
               Access<std::vector<ParamOverride>>>
      access;
  Range range = {};
  /// YAML null reads as 0 (the recipe's `None` for CLIP_GRAD).
  bool null_is_zero = false;
  /// For strings: the valid values (case-insensitive), or nullptr for any.
  std::vector<std::string> (*choices)() = nullptr;
};

// Every key, in the order dump_config writes them. Ranges follow torch's own checks.
const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      {"SEED", +[](Config& c) -> int& { return c.seed; }, kNonNegative},
      {"DATA.BATCH_SIZE", +[](Config& c) -> int& { return c.data.batch_size; }, kAtLeastOne},
      {"TRAIN.EPOCHS", +[](Config& c) -> int& { return c.train.epochs; }, kAtLeastOne},
      {"TRAIN.WARMUP_EPOCHS", +[](Config& c) -> int& { return c.train.warmup_epochs; },
       kNonNegative},
      {"TRAIN.WEIGHT_DECAY", +[](Config& c) -> double& { return c.train.weight_decay; },
       kNonNegative},
      {"TRAIN.BASE_LR", +[](Config& c) -> double& { return c.train.base_lr; }, kNonNegative},
      {"TRAIN.WARMUP_LR", +[](Config& c) -> double& { return c.train.warmup_lr; }, kNonNegative},
      {"TRAIN.MIN_LR", +[](Config& c) -> double& { return c.train.min_lr; }, kNonNegative},
      {"TRAIN.CLIP_GRAD", +[](Config& c) -> double& { return c.train.clip_grad; }, kNonNegative,
       true},
      {"TRAIN.LAYER_DECAY", +[](Config& c) -> double& { return c.train.layer_decay; }, kLayerDecay},
      {"TRAIN.OPTIMIZER.NAME",
       +[](Config& c) -> std::string& { return c.train.optimizer.name; },
       {},
       false,
       &optimizer_names},
      {"TRAIN.OPTIMIZER.EPS", +[](Config& c) -> double& { return c.train.optimizer.eps; },
       kNonNegative},
      {"TRAIN.OPTIMIZER.BETAS",
       +[](Config& c) -> std::array<double, 2>& { return c.train.optimizer.betas; }, kBeta},
      {"TRAIN.OPTIMIZER.MOMENTUM", +[](Config& c) -> double& { return c.train.optimizer.momentum; },
       kNonNegative},
      {"TRAIN.OPTIMIZER.FLUSH_SUBNORMAL_STATE",
       +[](Config& c) -> bool& { return c.train.optimizer.flush_subnormal_state; }},
      {"TRAIN.OPTIMIZER.PARAM_DTYPE",
       +[](Config& c) -> std::string& { return c.train.optimizer.param_dtype; },
       {},
       false,
       &dtype_names},
      {"TRAIN.OPTIMIZER.GRAD_DTYPE",
       +[](Config& c) -> std::string& { return c.train.optimizer.grad_dtype; },
       {},
       false,
       &dtype_names},
      {"TRAIN.OPTIMIZER.STATE_DTYPE",
       +[](Config& c) -> std::string& { return c.train.optimizer.state_dtype; },
       {},
       false,
       &dtype_names},
      {"TRAIN.OPTIMIZER.MASTER_WEIGHTS",
       +[](Config& c) -> bool& { return c.train.optimizer.master_weights; }},
      {"TRAIN.OPTIMIZER.STOCHASTIC_ROUNDING",
       +[](Config& c) -> bool& { return c.train.optimizer.stochastic_rounding; }},
      {"TRAIN.LR_SCHEDULER.NAME",
       +[](Config& c) -> std::string& { return c.train.lr_scheduler.name; },
       {},
       false,
       &scheduler_names},
      {"TRAIN.LR_SCHEDULER.DECAY_EPOCHS",
       +[](Config& c) -> int& { return c.train.lr_scheduler.decay_epochs; }, kAtLeastOne},
      {"TRAIN.LR_SCHEDULER.DECAY_RATE",
       +[](Config& c) -> double& { return c.train.lr_scheduler.decay_rate; }, kPositive},
      {"TRAIN.LR_SCHEDULER.WARMUP_PREFIX",
       +[](Config& c) -> bool& { return c.train.lr_scheduler.warmup_prefix; }},
      {"TRAIN.LR_SCHEDULER.GAMMA", +[](Config& c) -> double& { return c.train.lr_scheduler.gamma; },
       kPositive},
      {"TRAIN.LR_SCHEDULER.MULTISTEPS",
       +[](Config& c) -> std::vector<int>& { return c.train.lr_scheduler.multisteps; },
       kNonNegative},
      {"TRAIN.PARAM_OVERRIDES",
       +[](Config& c) -> std::vector<ParamOverride>& { return c.train.param_overrides; }},
      {"TRAIN.MODEL_EMA", +[](Config& c) -> bool& { return c.train.model_ema; }},
      {"TRAIN.MODEL_EMA_DECAY", +[](Config& c) -> double& { return c.train.model_ema_decay; },
       kUnitClosed},
      {"TRAIN.MODEL_EMA_WARMUP", +[](Config& c) -> bool& { return c.train.model_ema_warmup; }},
      {"TRAIN.MODEL_EMA_V3", +[](Config& c) -> bool& { return c.train.model_ema_v3; }},
      {"TRAIN.MODEL_EMA_DTYPE",
       +[](Config& c) -> std::string& { return c.train.model_ema_dtype; },
       {},
       false,
       &dtype_names},
      {"TRAIN.SWA_START", +[](Config& c) -> int& { return c.train.swa_start; }, kNonNegative},
      {"TRAIN.SWA_LR", +[](Config& c) -> double& { return c.train.swa_lr; }, kNonNegative},
  };
  return table;
}

const std::vector<std::string> kOverrideKeys = {"PATTERN", "LR", "WEIGHT_DECAY"};

bool valid_choice(const Field& field, const std::string& value) {
  if (field.choices == nullptr) return true;
  const std::string lower = detail::to_lower(value);
  const std::vector<std::string> choices = field.choices();
  return std::any_of(choices.begin(), choices.end(),
                     [&](const std::string& c) { return detail::to_lower(c) == lower; });
}

std::string expected_string(const Field& field) {
  if (field.choices == nullptr) return "a string";
  return "one of " + detail::join(field.choices()) + " (case-insensitive)";
}

std::string expected_number(const Field& field) {
  return "a number " + field.range.describe();
}
std::string expected_integer(const Field& field) {
  return "an integer " + field.range.describe();
}

/// Reads YAML over a Config, checking every key and value.
class Reader {
 public:
  explicit Reader(std::string_view source) : source_(source) {}

  void read_section(const YAML::Node& node, const std::string& section, Config& config) {
    if (node.IsNull()) return;  // an empty section keeps its defaults, as in yacs
    const std::vector<std::string> keys = child_keys(section);
    if (!node.IsMap()) {
      bad(node, section.empty() ? "(top level)" : section,
          "a mapping with keys " + detail::join(keys));
    }
    for (const auto& item : node) {
      const std::string key = item.first.IsScalar() ? item.first.Scalar() : "";
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        detail::throw_unknown_key(source_, kKind, item.first, section, keys);
      }
      const std::string path = detail::join_path(section, key);
      if (const Field* field = find_field(path)) {
        read_field(*field, item.second, config);
      } else {
        read_section(item.second, path, config);
      }
    }
  }

 private:
  static const Field* find_field(std::string_view path) {
    for (const Field& f : fields()) {
      if (f.path == path) return &f;
    }
    return nullptr;
  }

  /// The distinct next path components under `section`, in table order.
  static std::vector<std::string> child_keys(const std::string& section) {
    const std::string prefix = section.empty() ? "" : section + ".";
    std::vector<std::string> keys;
    for (const Field& f : fields()) {
      if (!f.path.starts_with(prefix)) continue;
      const std::string_view rest = f.path.substr(prefix.size());
      std::string key(rest.substr(0, rest.find('.')));
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(std::move(key));
    }
    return keys;
  }

  void read_field(const Field& field, const YAML::Node& node, Config& config) {
    std::visit([&](auto access) { read_value(field, node, access(config)); }, field.access);
  }

  void read_value(const Field& field, const YAML::Node& node, double& out) {
    if (field.null_is_zero && node.IsNull()) {
      out = 0.0;
      return;
    }
    out = number(node, field.path, field.range);
  }

  void read_value(const Field& field, const YAML::Node& node, int& out) {
    out = integer(node, field.path, field.range);
  }

  void read_value(const Field& field, const YAML::Node& node, bool& out) {
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, out)) {
      bad(node, field.path, "true or false");
    }
  }

  void read_value(const Field& field, const YAML::Node& node, std::string& out) {
    if (!node.IsScalar() || !valid_choice(field, node.Scalar())) {
      bad(node, field.path, expected_string(field));
    }
    out = node.Scalar();
  }

  void read_value(const Field& field, const YAML::Node& node, std::array<double, 2>& out) {
    const std::string expected = "a list of two numbers " + field.range.describe();
    if (!node.IsSequence() || node.size() != 2) bad(node, field.path, expected);
    for (std::size_t i = 0; i < 2; ++i) {
      if (!decode_number(node[i], out[i]) || !field.range.contains(out[i])) {
        bad(node, field.path, expected);
      }
    }
  }

  void read_value(const Field& field, const YAML::Node& node, std::vector<int>& out) {
    const std::string expected = "a list of integers " + field.range.describe();
    if (!node.IsSequence()) bad(node, field.path, expected);
    out.clear();
    for (const YAML::Node& item : node) out.push_back(integer(item, field.path, field.range));
  }

  void read_value(const Field& field, const YAML::Node& node, std::vector<ParamOverride>& out) {
    const std::string entry_keys = "a mapping with keys " + detail::join(kOverrideKeys);
    if (!node.IsSequence()) bad(node, field.path, "a list of " + entry_keys.substr(2));
    out.clear();
    for (std::size_t i = 0; i < node.size(); ++i) {
      const std::string path = std::string(field.path) + "[" + std::to_string(i) + "]";
      const YAML::Node entry = node[i];
      if (!entry.IsMap()) bad(entry, path, entry_keys);
      ParamOverride o;
      for (const auto& item : entry) {
        const std::string key = item.first.IsScalar() ? item.first.Scalar() : "";
        const std::string key_path = path + "." + key;
        if (key == "PATTERN") {
          if (!item.second.IsScalar() || item.second.Scalar().empty()) {
            bad(item.second, key_path, "a non-empty glob pattern");
          }
          o.pattern = item.second.Scalar();
        } else if (key == "LR") {
          o.lr = number(item.second, key_path, kNonNegative);
        } else if (key == "WEIGHT_DECAY") {
          o.weight_decay = number(item.second, key_path, kNonNegative);
        } else {
          detail::throw_unknown_key(source_, kKind, item.first, path, kOverrideKeys);
        }
      }
      if (o.pattern.empty()) bad(entry, path, "a PATTERN key");
      if (!o.lr && !o.weight_decay) bad(entry, path, "LR and/or WEIGHT_DECAY");
      out.push_back(std::move(o));
    }
  }

  static bool decode_number(const YAML::Node& node, double& out) {
    return node.IsScalar() && YAML::convert<double>::decode(node, out);
  }

  double number(const YAML::Node& node, std::string_view path, const Range& range) {
    double value = 0.0;
    if (!decode_number(node, value) || !range.contains(value)) {
      bad(node, path, "a number " + range.describe());
    }
    return value;
  }

  int integer(const YAML::Node& node, std::string_view path, const Range& range) {
    long long value = 0;
    if (!node.IsScalar() || !YAML::convert<long long>::decode(node, value) ||
        value > std::numeric_limits<int>::max() || value < std::numeric_limits<int>::min() ||
        !range.contains(static_cast<double>(value))) {
      bad(node, path, "an integer " + range.describe());
    }
    return static_cast<int>(value);
  }

  [[noreturn]] void bad(const YAML::Node& node, std::string_view path, std::string_view what) {
    detail::throw_bad_value(source_, kKind, node, path, what);
  }

  std::string_view source_;
};

[[noreturn]] void invalid(std::string_view path, const std::string& value,
                          const std::string& expected) {
  throw std::invalid_argument("config key " + std::string(path) + " = " + value + ": expected " +
                              expected);
}

/// Checks one typed value of a config built in code.
struct Validator {
  const Field& field;

  void operator()(double v) const {
    if (!field.range.contains(v))
      invalid(field.path, detail::format_number(v), expected_number(field));
  }
  void operator()(int v) const {
    if (!field.range.contains(v)) invalid(field.path, std::to_string(v), expected_integer(field));
  }
  void operator()(bool) const {}
  void operator()(const std::string& v) const {
    if (!valid_choice(field, v)) invalid(field.path, "'" + v + "'", expected_string(field));
  }
  void operator()(const std::array<double, 2>& v) const {
    for (const double x : v) {
      if (!field.range.contains(x)) {
        invalid(field.path,
                "[" + detail::format_number(v[0]) + ", " + detail::format_number(v[1]) + "]",
                "a list of two numbers " + field.range.describe());
      }
    }
  }
  void operator()(const std::vector<int>& v) const {
    for (const int x : v) {
      if (!field.range.contains(x)) {
        invalid(field.path, "[..., " + std::to_string(x) + ", ...]",
                "a list of integers " + field.range.describe());
      }
    }
  }
  void operator()(const std::vector<ParamOverride>& v) const {
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string path = std::string(field.path) + "[" + std::to_string(i) + "]";
      if (v[i].pattern.empty()) invalid(path + ".PATTERN", "''", "a non-empty glob pattern");
      if (v[i].lr && !kNonNegative.contains(*v[i].lr)) {
        invalid(path + ".LR", detail::format_number(*v[i].lr), "a number >= 0");
      }
      if (v[i].weight_decay && !kNonNegative.contains(*v[i].weight_decay)) {
        invalid(path + ".WEIGHT_DECAY", detail::format_number(*v[i].weight_decay), "a number >= 0");
      }
    }
  }
};

/// Converts one typed value to a YAML node for dump_config.
struct Dumper {
  YAML::Node operator()(double v) const { return YAML::Node(detail::format_number(v)); }
  YAML::Node operator()(int v) const { return YAML::Node(v); }
  YAML::Node operator()(bool v) const { return YAML::Node(v); }
  YAML::Node operator()(const std::string& v) const { return YAML::Node(v); }
  YAML::Node operator()(const std::array<double, 2>& v) const {
    YAML::Node node;
    for (const double x : v) node.push_back(detail::format_number(x));
    node.SetStyle(YAML::EmitterStyle::Flow);
    return node;
  }
  YAML::Node operator()(const std::vector<int>& v) const {
    YAML::Node node(YAML::NodeType::Sequence);
    for (const int x : v) node.push_back(x);
    node.SetStyle(YAML::EmitterStyle::Flow);
    return node;
  }
  YAML::Node operator()(const std::vector<ParamOverride>& v) const {
    YAML::Node node(YAML::NodeType::Sequence);
    for (const ParamOverride& o : v) {
      YAML::Node entry;
      entry["PATTERN"] = o.pattern;
      if (o.lr) entry["LR"] = detail::format_number(*o.lr);
      if (o.weight_decay) entry["WEIGHT_DECAY"] = detail::format_number(*o.weight_decay);
      entry.SetStyle(YAML::EmitterStyle::Flow);
      node.push_back(entry);
    }
    return node;
  }
};

}  // namespace

Config parse_config(std::string_view text, std::string_view source) {
  Config config;
  Reader(source).read_section(detail::parse_yaml(text, source), "", config);
  return config;
}

Config load_config(const std::string& path) {
  return parse_config(detail::read_text_file(path, "config file"), path);
}

void validate_config(const Config& config) {
  Config copy = config;  // the accessors take a mutable Config
  for (const Field& field : fields()) {
    std::visit([&](auto access) { Validator{field}(access(copy)); }, field.access);
  }
}

std::string dump_config(const Config& config) {
  Config copy = config;
  YAML::Node root(YAML::NodeType::Map);
  for (const Field& field : fields()) {
    YAML::Node value =
        std::visit([&](auto access) { return Dumper{}(access(copy)); }, field.access);
    // Walk (creating) the sections of the dotted path, then set the leaf.
    std::vector<YAML::Node> chain{root};
    std::string_view rest = field.path;
    for (std::size_t dot = rest.find('.'); dot != std::string_view::npos; dot = rest.find('.')) {
      chain.push_back(chain.back()[std::string(rest.substr(0, dot))]);
      rest.remove_prefix(dot + 1);
    }
    chain.back()[std::string(rest)] = value;
  }
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

}  // namespace v1
}  // namespace simdoptim
