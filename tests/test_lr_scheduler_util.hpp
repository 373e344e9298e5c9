#pragma once
// Shared helpers of the scheduler tests: the two-group optimizers of the golden files, the
// golden-file reader and the relative comparison.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "simdoptim/adam.hpp"
#include "simdoptim/sgd.hpp"

namespace sched_test {

/// SGD(momentum 0.9) with groups lr 0.1 and 0.01, as tools/gen_golden_schedulers.py's sgd().
inline std::unique_ptr<simdoptim::Optimizer> make_sgd() {
  auto opt = std::make_unique<simdoptim::SGD>(simdoptim::SGDOptions{.lr = 0.1, .momentum = 0.9});
  opt->add_param_group({{"a", {2}}}, {{"lr", 0.1}});
  opt->add_param_group({{"b", {3}}}, {{"lr", 0.01}});
  return opt;
}

/// Adam with groups lr 1e-3 and 3e-4, as the generator's adam().
inline std::unique_ptr<simdoptim::Optimizer> make_adam() {
  auto opt = std::make_unique<simdoptim::Adam>(simdoptim::AdamOptions{.lr = 1e-3});
  opt->add_param_group({{"a", {2}}}, {{"lr", 1e-3}});
  opt->add_param_group({{"b", {3}}}, {{"lr", 3e-4}});
  return opt;
}

/// Every group's lr.
inline std::vector<double> lrs(const simdoptim::Optimizer& opt) {
  std::vector<double> out;
  for (const auto& g : opt.param_groups()) out.push_back(g.lr());
  return out;
}

/// Every group's momentum, or beta1 for Adam.
inline std::vector<double> momenta(const simdoptim::Optimizer& opt) {
  const char* key = opt.defaults().contains("beta1") ? "beta1" : "momentum";
  std::vector<double> out;
  for (const auto& g : opt.param_groups()) out.push_back(g.options().get(key));
  return out;
}

/// A golden file: named columns of doubles.
struct Golden {
  std::map<std::string, std::vector<double>> columns;
  std::size_t rows = 0;
  const std::vector<double>& at(const std::string& name) const {
    const auto it = columns.find(name);
    if (it == columns.end()) throw std::out_of_range("golden column " + name);
    return it->second;
  }
};

inline Golden load_golden(const std::string& name) {
  const std::string path = std::string(SIMDOPTIM_TEST_DATA_DIR) + "/schedulers/" + name + ".txt";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  Golden g;
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream s(line);
    if (names.empty()) {
      std::string word;
      s >> word;
      if (word != "columns") throw std::runtime_error(path + ": expected a 'columns' line");
      while (s >> word) names.push_back(word);
      continue;
    }
    for (const std::string& n : names) {
      std::string tok;
      s >> tok;
      g.columns[n].push_back(std::strtod(tok.c_str(), nullptr));
    }
    ++g.rows;
  }
  return g;
}

/// Relative tolerance of the golden comparisons: all arithmetic is double, in torch's order.
constexpr double kRelTol = 1e-12;

/// |a - b| <= kRelTol * max(|a|, |b|) (exact equality for zeros).
inline bool close(double a, double b) {
  return a == b || std::fabs(a - b) <= kRelTol * std::fmax(std::fabs(a), std::fabs(b));
}

}  // namespace sched_test
