#pragma once
/// A model's named parameters, as torch's `model.named_parameters()` plus the recipe hooks
/// `no_weight_decay()` and `no_weight_decay_keywords()`.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "simdoptim/types.hpp"

namespace simdoptim {
inline namespace v1 {

/// One named parameter of a model (torch: an item of `named_parameters()`).
struct ParamInfo {
  std::string name;
  Shape shape;
  /// False for a frozen parameter; build_optimizer leaves it out (torch: `requires_grad`).
  bool requires_grad = true;
  /// Depth index for layer-wise lr decay (0 = stem, larger = closer to the head), as timm's
  /// `group_matcher` assigns; absent means "the last layer", as timm's `layer_map.get(name,
  /// layer_max)`.
  std::optional<int> layer_id = std::nullopt;
};

/// The parameters of a model, in `named_parameters()` order, plus the names and keywords the
/// model excludes from weight decay. Build it in code or load it from a file (docs/model_spec.md).
class ModelSpec {
 public:
  ModelSpec() = default;

  /// Appends a parameter. Throws std::invalid_argument on an empty or duplicate name, a negative
  /// dimension or a negative layer id.
  ModelSpec& add(ParamInfo param);
  /// Appends a trainable parameter without a layer id.
  ModelSpec& add(std::string name, Shape shape, bool requires_grad = true);
  /// Adds a name to the no-weight-decay set (torch recipe: `model.no_weight_decay()`).
  ModelSpec& add_no_weight_decay(std::string name);
  /// Adds a keyword; a parameter whose name contains it gets no weight decay (torch recipe:
  /// `model.no_weight_decay_keywords()`).
  ModelSpec& add_no_weight_decay_keyword(std::string keyword);

  /// Parameters in order.
  std::span<const ParamInfo> params() const noexcept { return params_; }
  /// Number of parameters (frozen ones included).
  std::size_t size() const noexcept { return params_.size(); }
  /// True when there are no parameters.
  bool empty() const noexcept { return params_.empty(); }
  /// The parameter called `name`, or nullptr.
  const ParamInfo* find(std::string_view name) const noexcept;
  /// Total element count of the trainable parameters.
  std::size_t trainable_numel() const;

  /// The no-weight-decay names, in insertion order.
  std::span<const std::string> no_weight_decay() const noexcept { return no_weight_decay_; }
  /// The no-weight-decay keywords, in insertion order.
  std::span<const std::string> no_weight_decay_keywords() const noexcept {
    return no_weight_decay_keywords_;
  }

  /// Optional model name, informational ("swin_t").
  const std::string& model_name() const noexcept { return model_name_; }
  void set_model_name(std::string name) { model_name_ = std::move(name); }

 private:
  std::string model_name_;
  std::vector<ParamInfo> params_;
  std::vector<std::string> no_weight_decay_;
  std::vector<std::string> no_weight_decay_keywords_;
};

/// Parses a ModelSpec from YAML (or JSON) text; `source` names it in error messages. Throws
/// std::invalid_argument naming the source, line, key and problem (unknown keys are errors).
ModelSpec parse_model_spec(std::string_view text, std::string_view source = "<string>");

/// Loads a ModelSpec file (docs/model_spec.md). Throws std::invalid_argument when the file
/// cannot be read or is malformed.
ModelSpec load_model_spec(const std::string& path);

}  // namespace v1
}  // namespace simdoptim
