#include "digits/dataset.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string_view>

namespace digits {

Dataset load_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot open data file '" + path +
                             "' (the digits CSV; pass --data PATH)");
  }
  Dataset data;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const auto bad = [&](const std::string& what) {
      return std::runtime_error(path + ":" + std::to_string(line_no) + ": " + what);
    };
    std::string_view rest = line;
    for (std::size_t column = 0; column <= Dataset::kFeatures; ++column) {
      const std::size_t comma = rest.find(',');
      const std::string_view field = rest.substr(0, comma);
      int value = -1;
      const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
      const bool last = column == Dataset::kFeatures;
      const int max = last ? Dataset::kClasses - 1 : 16;
      if (ec != std::errc() || end != field.data() + field.size() || value < 0 || value > max ||
          (comma == std::string_view::npos) != last) {
        throw bad("expected 64 pixels in 0..16 and a label in 0..9, comma-separated");
      }
      if (last) {
        data.labels.push_back(value);
      } else {
        data.features.push_back(static_cast<float>(value) / 16.0f);
        rest.remove_prefix(comma + 1);
      }
    }
  }
  if (data.size() == 0) throw std::runtime_error("data file '" + path + "' has no samples");
  return data;
}

Split split(const Dataset& all, double test_fraction, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const std::vector<std::size_t> order = permutation(all.size(), rng);
  const auto n_test =
      static_cast<std::size_t>(std::lround(test_fraction * static_cast<double>(all.size())));
  Split out;
  for (std::size_t k = 0; k < order.size(); ++k) {
    Dataset& part = k < n_test ? out.test : out.train;
    const float* x = all.sample(order[k]);
    part.features.insert(part.features.end(), x, x + Dataset::kFeatures);
    part.labels.push_back(all.labels[order[k]]);
  }
  return out;
}

}  // namespace digits
