#pragma once
// What the optimizer steps over: a flat tensor of N elements, the built-in ResNet-50 shapes, or
// the parameters of a model spec file (docs/model_spec.md).
#include <cstddef>
#include <string>
#include <vector>

#include "simdoptim/model_spec.hpp"
#include "simdoptim/types.hpp"

namespace simdoptim::bench {

struct Workload {
  std::string name;    // "flat 64M", "resnet50", or the spec's model name
  std::string kind;    // "flat", "builtin" or "spec"
  std::string source;  // the spec file, empty otherwise
  ModelSpec model;
  // Late training: after the first step every state value is set to 1e-39 (subnormal) and 99 %
  // of the gradients to zero (dead units, unused embedding rows).
  bool decayed = false;

  // The trainable parameters, zero-initialised (frozen ones are left out, as build_optimizer
  // does).
  std::vector<ParamSpec> trainable_params() const;
  // Elements updated per step (trainable parameters, padding excluded).
  std::size_t numel() const { return model.trainable_numel(); }
};

// One flat 1-D parameter of `numel` elements.
Workload flat_workload(std::size_t numel);
// torchvision's ResNet-50 (161 tensors, 25,557,032 elements), compiled in.
Workload resnet50_workload();
// `w` with decayed state, named "<w.name> decayed".
Workload decayed_workload(Workload w);
// The model spec at `path`; throws std::invalid_argument naming the file when it cannot be read
// or parsed, or has no trainable parameter.
Workload spec_workload(const std::string& path);

}  // namespace simdoptim::bench
