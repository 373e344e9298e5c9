#include "bench/memory_reference.hpp"

#include <algorithm>

namespace simdoptim::bench {
namespace {

// Writes zeros through every array in the kernel's own partition, so pages are first touched by
// the threads that stream them and no array reads the kernel's shared zero page. Zeros stay
// zeros under every pattern kernel: no denormals, no overflow however long the run.
void zero_fill(const detail::StreamArgs& s, std::size_t begin, std::size_t end) noexcept {
  for (float* p : {s.a, s.b, s.c, s.d})
    if (p != nullptr) std::fill(p + begin, p + end, 0.0f);
}

}  // namespace

double fused_bytes_per_element(std::size_t state_arrays) {
  return 12.0 + 8.0 * static_cast<double>(state_arrays);
}

MemoryReference::MemoryReference(Optimizer& optimizer, Isa isa, int threads) : executor_(threads) {
  const std::size_t states =
      optimizer.param_groups().empty() ? 0 : optimizer.param_groups().front().state_names().size();
  // Stream indices as ParamGroup uses them: parameters 0, gradients 1, state arrays 2, 3, ...
  std::size_t arrays = 0;
  if (states == 0) {
    // p = p + s * g: the triad kernel with a == b reads p and g and writes p.
    kernel_ = detail::triad_kernel(isa);
    kernel_name_ = "triad";
    arrays = 2;
  } else if (states == 1) {
    kernel_ = detail::sgd_pattern_kernel(isa);
    kernel_name_ = "sgd_pattern";
    arrays = 3;
  } else {
    kernel_ = detail::adam_pattern_kernel(isa);
    kernel_name_ = "adam_pattern";
    arrays = 4;
    exact_ = states == 2;
  }
  bytes_per_element_ = fused_bytes_per_element(arrays - 2);
  for (ParamGroup& group : optimizer.param_groups()) {
    Group g;
    g.padded_numel = group.padded_numel();
    for (std::size_t i = 0; i < arrays; ++i)
      g.arrays.push_back(std::make_unique<detail::AlignedBuffer>(g.padded_numel, i));
    float* slot[4] = {};
    for (std::size_t i = 0; i < arrays; ++i) slot[i] = g.arrays[i]->data();
    if (states == 0)
      g.args = {slot[0], slot[0], slot[1], nullptr, 1e-3f};
    else
      g.args = {slot[0], slot[1], slot[2], slot[3], 0.0f};
    groups_.push_back(std::move(g));
  }
  run(zero_fill);
}

void MemoryReference::step() noexcept {
  run(kernel_);
}

void MemoryReference::run(detail::KernelFn<detail::StreamArgs> kernel) noexcept {
  for (const Group& g : groups_) {
    plan_.clear();
    plan_.add(g.args, 0, g.padded_numel);
    plan_.run(executor_, kernel);
  }
}

bool MemoryReference::huge_pages_requested() const noexcept {
  return !groups_.empty() && groups_.front().arrays.front()->huge_pages();
}

}  // namespace simdoptim::bench
