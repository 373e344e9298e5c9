#pragma once
// The UCI handwritten digits (8x8 images, 10 classes) as shipped with scikit-learn.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace digits {

/// Row-major samples: `features` holds size() * kFeatures pixels scaled to [0, 1].
struct Dataset {
  static constexpr std::size_t kFeatures = 64;
  static constexpr int kClasses = 10;
  std::vector<float> features;
  std::vector<int> labels;

  std::size_t size() const noexcept { return labels.size(); }
  const float* sample(std::size_t i) const noexcept { return features.data() + i * kFeatures; }
};

/// Reads scikit-learn's digits.csv: one sample per line, 64 integer pixels in 0..16, then the
/// label 0..9. Throws std::runtime_error naming the file (and line) when it is missing or
/// malformed.
Dataset load_csv(const std::string& path);

/// A train/test split.
struct Split {
  Dataset train;
  Dataset test;
};

/// Shuffles with `seed` and puts round(test_fraction * n) samples in the test set. The shuffle
/// is std::mt19937_64 plus our own Fisher-Yates, so the split is the same on every platform.
Split split(const Dataset& all, double test_fraction, std::uint64_t seed);

/// A uniformly random permutation of 0..n-1 (Fisher-Yates over `rng`'s raw output).
template <class Rng>
std::vector<std::size_t> permutation(std::size_t n, Rng& rng) {
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  for (std::size_t i = n; i > 1; --i) {
    const std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

}  // namespace digits
