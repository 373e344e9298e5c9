// The registry is the one list of optimizers: its option tables, make_optimizer and the typed
// C++ classes agree on names and torch's defaults.
#include <catch2/catch.hpp>
#include <limits>
#include <memory>
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
