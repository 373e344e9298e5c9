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

double fused_bytes_per_element(std::size_t state_arrays, const StorageOptions& storage) {
  const auto size = [](DType d) { return static_cast<double>(dtype_size(d)); };
  const double param =
      storage.master_weights ? 2 * 4.0 + size(storage.param) : 2 * size(storage.param);
  return param + size(storage.grad) + 2 * size(storage.state) * static_cast<double>(state_arrays);
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
  if (!optimizer.param_groups().empty() &&
      !optimizer.param_groups().front().storage().is_default()) {
    // The variant's own pattern: every array at its element size, in the 16-bit kernels' tiles.
    storage_kernel_ = detail::storage_pattern_kernel(isa);
    kernel_name_ = "storage_pattern";
    exact_ = true;
    bytes_per_element_ =
        fused_bytes_per_element(states, optimizer.param_groups().front().storage());
    for (const ParamGroup& group : optimizer.param_groups()) add_storage_group(group, states);
    step();  // first touch
    return;
  }
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

void MemoryReference::add_storage_group(const ParamGroup& group, std::size_t states) {
  const StorageOptions& st = group.storage();
  Group g;
  g.padded_numel = group.padded_numel();
  auto array = [&](DType d) {
    g.arrays.push_back(std::make_unique<detail::AlignedBuffer>(
        d == DType::f32 ? g.padded_numel : (g.padded_numel + 1) / 2, g.arrays.size()));
    return static_cast<void*>(g.arrays.back()->data());
  };
  detail::StoragePatternArgs& a = g.storage_args;
  const DType param = st.master_weights ? DType::f32 : st.param;
  a.rw[0] = array(param);
  a.rw_size[0] = dtype_size(param);
  a.ro = array(st.grad);
  a.ro_size = dtype_size(st.grad);
  for (std::size_t k = 0; k < states && k + 1 < a.rw.size(); ++k) {
    a.rw[k + 1] = array(st.state);
    a.rw_size[k + 1] = dtype_size(st.state);
  }
  if (st.master_weights) {
    a.wo = array(st.param);
    a.wo_size = dtype_size(st.param);
  }
  groups_.push_back(std::move(g));
}

void MemoryReference::step() noexcept {
  if (storage_kernel_ != nullptr) {
    for (const Group& g : groups_) {
      storage_plan_.clear();
      storage_plan_.add(g.storage_args, 0, g.padded_numel);
      storage_plan_.run(executor_, storage_kernel_);
    }
    return;
  }
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
