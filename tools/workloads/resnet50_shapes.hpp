#pragma once
// ResNet-50's 161 parameter tensors (torchvision order and shapes, 25,557,032 elements), for
// model-shaped demos and benchmarks that must not depend on spec files.
#include <cstdint>
#include <string>
#include <vector>

#include "simdoptim/types.hpp"

namespace simdoptim::workloads {

inline std::vector<ParamSpec> resnet50_params() {
  std::vector<ParamSpec> out;
  auto conv = [&](const std::string& name, std::int64_t o, std::int64_t i, std::int64_t k) {
    out.push_back({name + ".weight", {o, i, k, k}, {}});
  };
  auto bn = [&](const std::string& name, std::int64_t c) {
    out.push_back({name + ".weight", {c}, {}});
    out.push_back({name + ".bias", {c}, {}});
  };
  conv("conv1", 64, 3, 7);
  bn("bn1", 64);
  const int blocks[] = {3, 4, 6, 3};
  std::int64_t in = 64;
  for (int layer = 0; layer < 4; ++layer) {
    const std::int64_t width = 64 << layer, out_ch = width * 4;
    for (int b = 0; b < blocks[layer]; ++b) {
      const std::string p = "layer" + std::to_string(layer + 1) + "." + std::to_string(b);
      conv(p + ".conv1", width, in, 1);
      bn(p + ".bn1", width);
      conv(p + ".conv2", width, width, 3);
      bn(p + ".bn2", width);
      conv(p + ".conv3", out_ch, width, 1);
      bn(p + ".bn3", out_ch);
      if (b == 0) {
        conv(p + ".downsample.0", out_ch, in, 1);
        bn(p + ".downsample.1", out_ch);
      }
      in = out_ch;
    }
  }
  out.push_back({"fc.weight", {1000, 2048}, {}});
  out.push_back({"fc.bias", {1000}, {}});
  return out;
}

}  // namespace simdoptim::workloads
