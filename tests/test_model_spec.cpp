#include <catch2/catch.hpp>
#include <stdexcept>
#include <string>

#include "invalid_argument_message.hpp"
#include "simdoptim/model_spec.hpp"

using namespace simdoptim;
using Catch::Contains;

namespace {

const std::string kSpecDir = test::kToolsDir + "specs/";

std::string parse_error(const std::string& yaml) {
  return test::invalid_argument_message([&] { parse_model_spec(yaml); });
}

}  // namespace

TEST_CASE("a model spec built in code keeps order, flags and skip lists", "[model_spec]") {
  ModelSpec spec;
  spec.add("w", {4, 3}).add("b", {4}).add("frozen", {2}, false);
  spec.add({"late", {3, 3}, true, 2});
  spec.add_no_weight_decay("w").add_no_weight_decay_keyword("bias_table");
  REQUIRE(spec.size() == 4);
  CHECK(spec.params()[1].name == "b");
  CHECK_FALSE(spec.find("frozen")->requires_grad);
  CHECK(spec.find("late")->layer_id == 2);
  CHECK_FALSE(spec.find("w")->layer_id.has_value());
  CHECK(spec.find("nope") == nullptr);
  CHECK(spec.trainable_numel() == 12 + 4 + 9);
  CHECK(spec.no_weight_decay()[0] == "w");
  CHECK(spec.no_weight_decay_keywords()[0] == "bias_table");

  CHECK_THROWS_WITH(spec.add("w", {1}), Contains("duplicate parameter name 'w'"));
  CHECK_THROWS_WITH(spec.add("neg", {2, -1}), Contains("dimensions must be >= 0"));
  CHECK_THROWS_WITH(spec.add_no_weight_decay_keyword(""), Contains("matches every name"));
}

TEST_CASE("a model spec parses from YAML and from JSON", "[model_spec]") {
  const char* yaml = R"(
model: tiny
no_weight_decay: [pos_embed]
no_weight_decay_keywords: [relative_position_bias_table]
params:
  - {name: pos_embed, shape: [1, 4, 8], layer_id: 0}
  - {name: blocks.0.weight, shape: [8, 8], layer_id: 1}
  - name: scalar
    shape: []
    requires_grad: false
)";
  const ModelSpec a = parse_model_spec(yaml);
  CHECK(a.model_name() == "tiny");
  REQUIRE(a.size() == 3);
  CHECK(a.params()[0].shape == Shape{1, 4, 8});
  CHECK(a.params()[1].layer_id == 1);
  CHECK(a.params()[2].shape.empty());
  CHECK_FALSE(a.params()[2].requires_grad);
  CHECK(a.no_weight_decay_keywords()[0] == "relative_position_bias_table");

  const ModelSpec b = parse_model_spec(
      R"({"params": [{"name": "w", "shape": [2, 3]}, {"name": "b", "shape": [2]}]})");
  REQUIRE(b.size() == 2);
  CHECK(b.params()[0].shape == Shape{2, 3});
}

TEST_CASE("model spec errors name the place and the problem", "[model_spec]") {
  CHECK_THAT(parse_error("params:\n  - {name: w, shap: [2]}\n"),
             Contains("<string>:2:15: unknown model spec key 'params[0].shap' (did you mean "
                      "'params[0].shape'?)"));
  CHECK_THAT(parse_error("params:\n  - {name: w, shape: [2, x]}\n"),
             Contains("model spec key params[0].shape = 'x': expected dimensions that are "
                      "integers >= 0"));
  CHECK_THAT(parse_error("params:\n  - {name: w}\n"), Contains("needs both 'name' and 'shape'"));
  CHECK_THAT(parse_error("params:\n  - {name: w, shape: [1]}\n  - {name: w, shape: [1]}\n"),
             Contains("params[1].name = 'w': expected a name not used before"));
  CHECK_THAT(parse_error("model: x\n"), Contains("has no 'params' list"));
  CHECK_THAT(parse_error("parms: []\n"), Contains("unknown model spec key 'parms'"));
  CHECK_THROWS_WITH(load_model_spec("/nonexistent.yaml"),
                    Contains("cannot read model spec file '/nonexistent.yaml'"));
}

TEST_CASE("the exported torchvision specs load with torch's parameter counts", "[model_spec]") {
  struct Expected {
    const char* name;
    std::size_t tensors;
    std::size_t numel;
  };
  for (const Expected& e : {Expected{"resnet50", 161, 25557032}, Expected{"swin_t", 173, 28288354},
                            Expected{"vit_b_16", 152, 86567656}}) {
    INFO(e.name);
    const ModelSpec spec = load_model_spec(kSpecDir + e.name + ".yaml");
    CHECK(spec.model_name() == e.name);
    CHECK(spec.size() == e.tensors);
    CHECK(spec.trainable_numel() == e.numel);
  }
}
