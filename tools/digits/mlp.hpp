#pragma once
// A multilayer perceptron (Linear + ReLU, softmax cross-entropy) whose parameters and gradients
// live in a simdoptim optimizer's arenas.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "digits/dataset.hpp"
#include "simdoptim/model_spec.hpp"
#include "simdoptim/optimizer.hpp"

namespace digits {

/// Summed loss and correct predictions over some samples.
struct Score {
  double loss_sum = 0.0;
  std::size_t correct = 0;
  std::size_t count = 0;
  double mean_loss() const { return count ? loss_sum / static_cast<double>(count) : 0.0; }
  double accuracy() const {
    return count ? static_cast<double>(correct) / static_cast<double>(count) : 0.0;
  }
};

/// torch: nn.Sequential(Linear(w0, w1), ReLU(), ..., Linear(w[n-2], w[n-1])) with
/// CrossEntropyLoss. Parameters are named fc1.weight [w1, w0], fc1.bias [w1], fc2.weight, ...
class Mlp {
 public:
  /// Layer widths, input first, classes last, e.g. {64, 128, 10}.
  explicit Mlp(std::vector<int> widths);

  /// The parameters for build_optimizer, in torch's named_parameters() order.
  simdoptim::ModelSpec spec() const;

  /// Binds to `optimizer`, which must hold spec()'s parameters, and initialises them as
  /// nn.Linear does: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  void bind(simdoptim::Optimizer& optimizer, std::uint64_t seed);

  /// Forward and backward over the samples `batch` of `data`: writes the gradient of the mean
  /// cross-entropy into the optimizer's gradient views (marking them present), computed in fp32
  /// and rounded to nearest-even into 16-bit gradients.
  Score train_batch(const Dataset& data, std::span<const std::size_t> batch);

  /// Loss and accuracy over all of `data`, without gradients.
  Score evaluate(const Dataset& data);

  /// The last batch's gradients' global L2 norm (of the fp32 values); scales them to `max_norm`
  /// when above it and stores them again (torch: clip_grad_norm_). Returns the norm before
  /// clipping.
  double clip_grad_norm(double max_norm);

 private:
  struct Layer {
    std::size_t in = 0;
    std::size_t out = 0;
    simdoptim::ParamGroup* weight_group = nullptr;
    std::size_t weight_index = 0;
    simdoptim::ParamGroup* bias_group = nullptr;
    std::size_t bias_index = 0;
  };

  /// Runs the layers over `rows` samples whose inputs are in activations_[0]; leaves the logits
  /// in activations_.back(). Returns the score against `labels`.
  Score forward(std::size_t rows, std::span<const int> labels);

  std::vector<int> widths_;
  std::vector<Layer> layers_;
  simdoptim::Optimizer* optimizer_ = nullptr;
  std::vector<std::vector<float>> activations_;  // per layer input, then the logits
  /// Stores grads_ into the optimizer's gradient views.
  void write_grads();

  std::vector<std::vector<float>> grads_;  // per layer: weight, then bias gradients in fp32
  std::vector<float> delta_;
  std::vector<float> delta_prev_;
  std::vector<int> labels_;
  // 16-bit parameters widened for the arithmetic (fp32 parameters are read in place).
  std::vector<float> weight_values_;
  std::vector<float> bias_values_;
};

}  // namespace digits
