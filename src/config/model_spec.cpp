#include "simdoptim/model_spec.hpp"

#include <limits>
#include <stdexcept>
#include <utility>

#include "config/yaml_util.hpp"

namespace simdoptim {
inline namespace v1 {

ModelSpec& ModelSpec::add(ParamInfo param) {
  if (param.name.empty()) throw std::invalid_argument("ModelSpec: a parameter has an empty name");
  if (find(param.name) != nullptr) {
    throw std::invalid_argument("ModelSpec: duplicate parameter name '" + param.name + "'");
  }
  for (const std::int64_t d : param.shape) {
    if (d < 0) {
      throw std::invalid_argument("ModelSpec: parameter '" + param.name + "' has shape " +
                                  shape_to_string(param.shape) + "; dimensions must be >= 0");
    }
  }
  if (param.layer_id && *param.layer_id < 0) {
    throw std::invalid_argument("ModelSpec: parameter '" + param.name + "' has layer_id " +
                                std::to_string(*param.layer_id) + "; expected >= 0");
  }
  params_.push_back(std::move(param));
  return *this;
}

ModelSpec& ModelSpec::add(std::string name, Shape shape, bool requires_grad) {
  return add(ParamInfo{std::move(name), std::move(shape), requires_grad});
}

ModelSpec& ModelSpec::add_no_weight_decay(std::string name) {
  no_weight_decay_.push_back(std::move(name));
  return *this;
}

ModelSpec& ModelSpec::add_no_weight_decay_keyword(std::string keyword) {
  if (keyword.empty()) {
    // "" is in every name: the recipe would silently drop weight decay everywhere.
    throw std::invalid_argument("ModelSpec: an empty no_weight_decay keyword matches every name");
  }
  no_weight_decay_keywords_.push_back(std::move(keyword));
  return *this;
}

const ParamInfo* ModelSpec::find(std::string_view name) const noexcept {
  for (const ParamInfo& p : params_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::size_t ModelSpec::trainable_numel() const {
  std::size_t total = 0;
  for (const ParamInfo& p : params_) {
    if (p.requires_grad) total += numel_of(p.shape);
  }
  return total;
}

namespace {

constexpr std::string_view kKind = "model spec";

class SpecReader {
 public:
  explicit SpecReader(std::string_view source) : source_(source) {}

  ModelSpec read(const YAML::Node& root) {
    if (!root.IsMap()) bad(root, "", "a mapping with keys " + detail::join(kTopKeys));
    ModelSpec spec;
    bool has_params = false;
    for (const auto& item : root) {
      const std::string key = item.first.Scalar();
      const YAML::Node& value = item.second;
      if (key == "model") {
        spec.set_model_name(string(value, key));
      } else if (key == "no_weight_decay") {
        for (std::string& name : strings(value, key)) spec.add_no_weight_decay(std::move(name));
      } else if (key == "no_weight_decay_keywords") {
        for (std::string& word : strings(value, key)) {
          if (word.empty()) bad(value, key, "non-empty keywords");
          spec.add_no_weight_decay_keyword(std::move(word));
        }
      } else if (key == "params") {
        has_params = true;
        if (!value.IsSequence()) bad(value, key, "a list of parameters");
        for (std::size_t i = 0; i < value.size(); ++i) {
          add_param(spec, value[i], "params[" + std::to_string(i) + "]");
        }
      } else {
        detail::throw_unknown_key(source_, kKind, item.first, "", kTopKeys);
      }
    }
    if (!has_params) {
      throw std::invalid_argument(std::string(source_) + ": model spec has no 'params' list");
    }
    return spec;
  }

 private:
  inline static const std::vector<std::string> kTopKeys = {"model", "no_weight_decay",
                                                           "no_weight_decay_keywords", "params"};
  inline static const std::vector<std::string> kParamKeys = {"name", "shape", "requires_grad",
                                                             "layer_id"};

  void add_param(ModelSpec& spec, const YAML::Node& node, const std::string& path) {
    if (!node.IsMap()) bad(node, path, "a mapping with keys " + detail::join(kParamKeys));
    ParamInfo param;
    bool has_name = false;
    bool has_shape = false;
    for (const auto& item : node) {
      const std::string key = item.first.Scalar();
      const YAML::Node& value = item.second;
      const std::string key_path = path + "." + key;
      if (key == "name") {
        param.name = string(value, key_path);
        if (param.name.empty()) bad(value, key_path, "a non-empty name");
        if (spec.find(param.name) != nullptr) bad(value, key_path, "a name not used before");
        has_name = true;
      } else if (key == "shape") {
        if (!value.IsSequence()) bad(value, key_path, "a list of dimensions, e.g. [64, 3]");
        for (const YAML::Node& d : value) {
          param.shape.push_back(integer(d, key_path, "dimensions that are integers >= 0"));
        }
        has_shape = true;
      } else if (key == "requires_grad") {
        bool flag = false;
        if (!value.IsScalar() || !YAML::convert<bool>::decode(value, flag)) {
          bad(value, key_path, "true or false");
        }
        param.requires_grad = flag;
      } else if (key == "layer_id") {
        param.layer_id = static_cast<int>(integer(value, key_path, "an integer >= 0"));
      } else {
        detail::throw_unknown_key(source_, kKind, item.first, path, kParamKeys);
      }
    }
    if (!has_name || !has_shape) {
      throw std::invalid_argument(detail::where(source_, node) + path + " needs both 'name' and " +
                                  "'shape'");
    }
    spec.add(std::move(param));
  }

  std::int64_t integer(const YAML::Node& node, const std::string& path, std::string_view what) {
    long long value = 0;
    if (!node.IsScalar() || !YAML::convert<long long>::decode(node, value) || value < 0 ||
        value > std::numeric_limits<int>::max()) {
      bad(node, path, what);
    }
    return value;
  }

  std::string string(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) bad(node, path, "a string");
    return node.Scalar();
  }

  std::vector<std::string> strings(const YAML::Node& node, const std::string& path) {
    if (!node.IsSequence()) bad(node, path, "a list of strings");
    std::vector<std::string> out;
    for (const YAML::Node& item : node) out.push_back(string(item, path));
    return out;
  }

  [[noreturn]] void bad(const YAML::Node& node, std::string_view path, std::string_view what) {
    detail::throw_bad_value(source_, kKind, node, path.empty() ? "(top level)" : path, what);
  }

  std::string_view source_;
};

}  // namespace

ModelSpec parse_model_spec(std::string_view text, std::string_view source) {
  return SpecReader(source).read(detail::parse_yaml(text, source));
}

ModelSpec load_model_spec(const std::string& path) {
  return parse_model_spec(detail::read_text_file(path, "model spec file"), path);
}

}  // namespace v1
}  // namespace simdoptim
