// The registry is the one list of optimizers: its option tables, make_optimizer and the typed
// C++ classes agree on names and torch's defaults.
#include <catch2/catch.hpp>
#include <limits>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;

namespace {

std::vector<std::unique_ptr<Optimizer>> typed_optimizers() {
  std::vector<std::unique_ptr<Optimizer>> v;
  v.push_back(std::make_unique<Adadelta>());
  v.push_back(std::make_unique<Adafactor>());
  v.push_back(std::make_unique<Adagrad>());
  v.push_back(std::make_unique<Adam>());
  v.push_back(std::make_unique<Adamax>());
  v.push_back(std::make_unique<AdamW>());
  v.push_back(std::make_unique<ASGD>());
  v.push_back(std::make_unique<Lamb>());
  v.push_back(std::make_unique<Lars>());
  v.push_back(std::make_unique<Lbfgs>());
  v.push_back(std::make_unique<Lion>());
  v.push_back(std::make_unique<NAdam>());
  v.push_back(std::make_unique<RAdam>());
  v.push_back(std::make_unique<RMSprop>());
  v.push_back(std::make_unique<Rprop>());
  v.push_back(std::make_unique<SGD>());
  return v;
}

}  // namespace

TEST_CASE("each typed class is registered under its name, with the same defaults", "[registry]") {
  const auto names = registered_optimizers();
  const auto typed = typed_optimizers();
  REQUIRE(names.size() == typed.size());
  for (const auto& opt : typed) {
    const std::string name(opt->name());
    INFO(name);
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
    CHECK(make_optimizer(name)->defaults() == opt->defaults());
  }
}

TEST_CASE("the option tables list every option with its default, in group-dict order",
          "[registry]") {
  for (const std::string& name : registered_optimizers()) {
    INFO(name);
    const auto options = optimizer_options(name);
    const GroupOptions defaults = make_optimizer(name)->defaults();
    REQUIRE(options.size() == defaults.items().size());
    for (std::size_t i = 0; i < options.size(); ++i) {
      CHECK(options[i].name == defaults.items()[i].first);
      CHECK(options[i].default_value == defaults.items()[i].second);
      CHECK_FALSE(options[i].doc.empty());
      if (options[i].flag)
        CHECK((options[i].default_value == 0.0 || options[i].default_value == 1.0));
    }
  }
}

TEST_CASE("every option of every table is checked: NaN anywhere, a flag other than 0 or 1",
          "[registry]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const std::string& name : registered_optimizers()) {
    for (const OptionInfo& o : optimizer_options(name)) {
      INFO(name << "." << o.name);
      CHECK_THROWS_WITH(make_optimizer(name)->add_param_group({}, {{o.name, nan}}),
                        Catch::Contains("invalid " + o.name));
      if (o.flag)
        CHECK_THROWS_WITH(make_optimizer(name)->add_param_group({}, {{o.name, 0.5}}),
                          Catch::Contains("invalid " + o.name));
    }
  }
}

TEST_CASE("unknown names are refused with the list of valid ones", "[registry]") {
  CHECK_THROWS_WITH(make_optimizer("adamx"), Catch::Contains("valid: adadelta"));
  CHECK_THROWS_AS(optimizer_options("adamx"), std::invalid_argument);
  CHECK(optimizer_state_names("adam") ==
        std::vector<std::string>{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"});
}

TEST_CASE("torch signatures name only options, option pairs and torch's switches", "[registry]") {
  const std::map<std::string, std::pair<std::string, std::string>> pairs = {
      {"betas", {"beta1", "beta2"}},
      {"etas", {"etaminus", "etaplus"}},
      {"step_sizes", {"step_size_min", "step_size_max"}}};
  const std::set<std::string> switches = {"foreach", "capturable", "differentiable", "fused"};
  for (const std::string& name : registered_optimizers()) {
    INFO(name);
    const std::string signature = optimizer_torch_signature(name);
    // The multi-pass optimizers' drop-ins are written by hand (LBFGS's closure and line search,
    // Adafactor's eps pair with None); every description has a signature.
    if (dynamic_cast<ElementwiseOptimizer*>(make_optimizer(name).get()) == nullptr) continue;
    REQUIRE_FALSE(signature.empty());
    const auto open = signature.find('(');
    REQUIRE(open != std::string::npos);
    REQUIRE(signature.back() == ')');
    CHECK(open > 0);
    std::set<std::string> options;
    for (const OptionInfo& o : optimizer_options(name)) options.insert(o.name);
    std::set<std::string> seen;
    int stars = 0;
    std::istringstream params(signature.substr(open + 1, signature.size() - open - 2));
    for (std::string param; std::getline(params >> std::ws, param, ',');) {
      INFO(param);
      if (param == "*") {
        ++stars;
        continue;
      }
      if (seen.empty()) CHECK(param == "params");
      CHECK(seen.insert(param).second);
      if (param == "params" || switches.contains(param)) continue;
      if (param == "lr=required") {
        CHECK(options.contains("lr"));
      } else if (pairs.contains(param)) {
        CHECK(options.contains(pairs.at(param).first));
        CHECK(options.contains(pairs.at(param).second));
      } else {
        CHECK(options.contains(param));
      }
    }
    CHECK(stars <= 1);
  }
  CHECK(optimizer_torch_signature("adam") ==
        "Adam(params, lr, betas, eps, weight_decay, amsgrad, *, foreach, maximize, capturable, "
        "differentiable, fused)");
  CHECK(optimizer_torch_signature("sgd").starts_with("SGD(params, lr=required, momentum,"));
  CHECK(optimizer_torch_signature("lamb").empty());
}

TEST_CASE("torch's state keys beyond the arrays: per-tensor scalars and 'step'", "[registry]") {
  for (const std::string& name : registered_optimizers()) {
    INFO(name);
    CHECK(optimizer_torch_step(name) == (name != "sgd"));
  }
  CHECK(optimizer_tensor_scalar_names("nadam") == std::vector<std::string>{"mu_product"});
  CHECK(optimizer_tensor_scalar_names("asgd") == std::vector<std::string>{"eta", "mu"});
  CHECK(optimizer_tensor_scalar_names("adam").empty());
  CHECK_THROWS_AS(optimizer_torch_signature("adamx"), std::invalid_argument);
}
