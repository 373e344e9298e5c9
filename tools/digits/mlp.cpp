#include "digits/mlp.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include "simdoptim/dtype_convert.hpp"

namespace digits {
namespace {

std::string layer_name(std::size_t l, const char* what) {
  return "fc" + std::to_string(l + 1) + "." + what;
}

// A parameter's values as floats: its fp32 view, or its 16-bit elements widened into `scratch`.
std::span<const float> values_of(const simdoptim::TensorView& v, std::vector<float>& scratch) {
  if (v.dtype == simdoptim::DType::f32) return v.data;
  scratch.resize(v.data16.size());
  for (std::size_t k = 0; k < v.data16.size(); ++k)
    scratch[k] = simdoptim::from_bits16(v.dtype, v.data16[k]);
  return scratch;
}

// Sets parameter `i` of `group` to `values`: the fp32 view, or the 16-bit elements rounded (and
// the master weights, which the optimizer updates, exactly).
void assign(simdoptim::ParamGroup& group, std::size_t i, const std::vector<float>& values) {
  const simdoptim::TensorView v = group.param(i);
  if (v.dtype == simdoptim::DType::f32) {
    std::copy(values.begin(), values.end(), v.data.begin());
    return;
  }
  for (std::size_t k = 0; k < values.size(); ++k)
    v.data16[k] = simdoptim::to_bits16(v.dtype, values[k]);
  if (group.storage().master_weights)
    std::copy(values.begin(), values.end(), group.master_param(i).data.begin());
}

// Writes `values` into the gradient view `v`: copied, or rounded to its 16-bit elements.
void store_grad(const simdoptim::TensorView& v, std::span<const float> values) {
  if (v.dtype == simdoptim::DType::f32) {
    std::copy(values.begin(), values.end(), v.data.begin());
    return;
  }
  for (std::size_t k = 0; k < values.size(); ++k)
    v.data16[k] = simdoptim::to_bits16(v.dtype, values[k]);
}

}  // namespace

Mlp::Mlp(std::vector<int> widths) : widths_(std::move(widths)) {
  if (widths_.size() < 2) throw std::invalid_argument("Mlp: needs at least two layer widths");
  for (const int w : widths_) {
    if (w <= 0) throw std::invalid_argument("Mlp: layer widths must be positive");
  }
}

simdoptim::ModelSpec Mlp::spec() const {
  simdoptim::ModelSpec spec;
  spec.set_model_name("mlp");
  for (std::size_t l = 0; l + 1 < widths_.size(); ++l) {
    spec.add(layer_name(l, "weight"), {widths_[l + 1], widths_[l]});
    spec.add(layer_name(l, "bias"), {widths_[l + 1]});
  }
  return spec;
}

void Mlp::bind(simdoptim::Optimizer& optimizer, std::uint64_t seed) {
  optimizer_ = &optimizer;
  layers_.clear();
  std::mt19937_64 rng(seed);
  const auto uniform = [&rng](double bound) {
    // 53 random bits -> [0, 1), then [-bound, bound): the same numbers on every platform.
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    return static_cast<float>((2.0 * u - 1.0) * bound);
  };
  for (std::size_t l = 0; l + 1 < widths_.size(); ++l) {
    Layer layer;
    layer.in = static_cast<std::size_t>(widths_[l]);
    layer.out = static_cast<std::size_t>(widths_[l + 1]);
    const auto [wg, wi] = optimizer.locate(layer_name(l, "weight"));
    const auto [bg, bi] = optimizer.locate(layer_name(l, "bias"));
    layer.weight_group = &optimizer.param_groups()[wg];
    layer.weight_index = wi;
    layer.bias_group = &optimizer.param_groups()[bg];
    layer.bias_index = bi;
    const double bound = 1.0 / std::sqrt(static_cast<double>(layer.in));
    std::vector<float> w(layer.weight_group->info(wi).numel), b(layer.bias_group->info(bi).numel);
    for (float& x : w) x = uniform(bound);
    for (float& x : b) x = uniform(bound);
    assign(*layer.weight_group, wi, w);
    assign(*layer.bias_group, bi, b);
    layers_.push_back(layer);
  }
  activations_.assign(widths_.size(), {});
  grads_.assign(2 * layers_.size(), {});
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    grads_[2 * l].resize(layers_[l].in * layers_[l].out);
    grads_[2 * l + 1].resize(layers_[l].out);
  }
}

void Mlp::write_grads() {
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    store_grad(layer.weight_group->grad(layer.weight_index), grads_[2 * l]);
    store_grad(layer.bias_group->grad(layer.bias_index), grads_[2 * l + 1]);
  }
}

Score Mlp::forward(std::size_t rows, std::span<const int> labels) {
  for (std::size_t l = 0; l < layers_.size(); ++l) {
    const Layer& layer = layers_[l];
    const std::span<const float> w =
        values_of(layer.weight_group->param(layer.weight_index), weight_values_);
    const std::span<const float> b =
        values_of(layer.bias_group->param(layer.bias_index), bias_values_);
    const std::vector<float>& x = activations_[l];
    std::vector<float>& y = activations_[l + 1];
    y.resize(rows * layer.out);
    const bool relu = l + 1 < layers_.size();
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * layer.in;
      for (std::size_t o = 0; o < layer.out; ++o) {
        const float* wo = w.data() + o * layer.in;
        float acc = b[o];
        for (std::size_t i = 0; i < layer.in; ++i) acc += wo[i] * xr[i];
        y[r * layer.out + o] = relu ? std::max(acc, 0.0f) : acc;
      }
    }
  }
  // Softmax cross-entropy; the logits are replaced by the probabilities for the backward pass.
  Score score;
  const std::size_t classes = layers_.back().out;
  std::vector<float>& logits = activations_.back();
  for (std::size_t r = 0; r < rows; ++r) {
    float* z = logits.data() + r * classes;
    const std::size_t predicted = static_cast<std::size_t>(std::max_element(z, z + classes) - z);
    const float top = z[predicted];
    double sum = 0.0;
    for (std::size_t c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[c] - top));
    const auto label = static_cast<std::size_t>(labels[r]);
    score.loss_sum += std::log(sum) - static_cast<double>(z[label] - top);
    score.correct += predicted == label ? 1 : 0;
    for (std::size_t c = 0; c < classes; ++c) {
      z[c] = static_cast<float>(std::exp(static_cast<double>(z[c] - top)) / sum);
    }
  }
  score.count = rows;
  return score;
}

Score Mlp::train_batch(const Dataset& data, std::span<const std::size_t> batch) {
  const std::size_t rows = batch.size();
  activations_[0].resize(rows * Dataset::kFeatures);
  labels_.resize(rows);
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy_n(data.sample(batch[r]), Dataset::kFeatures,
                activations_[0].begin() + static_cast<std::ptrdiff_t>(r * Dataset::kFeatures));
    labels_[r] = data.labels[batch[r]];
  }
  const Score score = forward(rows, labels_);

  // d(mean loss)/d(logits) = (softmax - onehot) / rows
  const std::size_t classes = layers_.back().out;
  delta_ = activations_.back();
  for (std::size_t r = 0; r < rows; ++r) delta_[r * classes + labels_[r]] -= 1.0f;
  const float inv_rows = 1.0f / static_cast<float>(rows);
  for (float& d : delta_) d *= inv_rows;

  for (std::size_t l = layers_.size(); l-- > 0;) {
    const Layer& layer = layers_[l];
    const std::vector<float>& x = activations_[l];
    const std::span<float> gw = grads_[2 * l];
    const std::span<float> gb = grads_[2 * l + 1];
    std::fill(gw.begin(), gw.end(), 0.0f);
    std::fill(gb.begin(), gb.end(), 0.0f);
    for (std::size_t r = 0; r < rows; ++r) {
      const float* xr = x.data() + r * layer.in;
      for (std::size_t o = 0; o < layer.out; ++o) {
        const float d = delta_[r * layer.out + o];
        gb[o] += d;
        float* gwo = gw.data() + o * layer.in;
        for (std::size_t i = 0; i < layer.in; ++i) gwo[i] += d * xr[i];
      }
    }
    if (l == 0) break;
    // Back through this layer's weights and the previous layer's ReLU.
    const std::span<const float> w =
        values_of(layer.weight_group->param(layer.weight_index), weight_values_);
    delta_prev_.assign(rows * layer.in, 0.0f);
    for (std::size_t r = 0; r < rows; ++r) {
      float* dp = delta_prev_.data() + r * layer.in;
      for (std::size_t o = 0; o < layer.out; ++o) {
        const float d = delta_[r * layer.out + o];
        const float* wo = w.data() + o * layer.in;
        for (std::size_t i = 0; i < layer.in; ++i) dp[i] += d * wo[i];
      }
      const float* xr = x.data() + r * layer.in;
      for (std::size_t i = 0; i < layer.in; ++i) {
        if (xr[i] <= 0.0f) dp[i] = 0.0f;
      }
    }
    delta_.swap(delta_prev_);
  }
  write_grads();
  return score;
}

Score Mlp::evaluate(const Dataset& data) {
  constexpr std::size_t kChunk = 256;
  Score total;
  for (std::size_t start = 0; start < data.size(); start += kChunk) {
    const std::size_t rows = std::min(kChunk, data.size() - start);
    activations_[0].assign(data.sample(start), data.sample(start) + rows * Dataset::kFeatures);
    const Score s = forward(rows, std::span(data.labels).subspan(start, rows));
    total.loss_sum += s.loss_sum;
    total.correct += s.correct;
    total.count += s.count;
  }
  return total;
}

double Mlp::clip_grad_norm(double max_norm) {
  // Over the fp32 gradients of the last batch, which are then stored again.
  double sum = 0.0;
  for (const std::vector<float>& g : grads_) {
    for (const float v : g) sum += static_cast<double>(v) * static_cast<double>(v);
  }
  const double norm = std::sqrt(sum);
  const double coef = max_norm / (norm + 1e-6);  // torch's clip_grad_norm_
  if (max_norm > 0.0 && coef < 1.0) {
    for (std::vector<float>& g : grads_) {
      for (float& v : g) v = static_cast<float>(static_cast<double>(v) * coef);
    }
    write_grads();
  }
  return norm;
}

}  // namespace digits
