#pragma once
// The physical limit of an optimizer's data movement, measured in the same run: a memory-only
// kernel with the optimizer's access pattern (src/kernels/stream_kernel.hpp), over arrays
// allocated like its arenas (AlignedBuffer: same sizes, stagger and huge pages) and split
// across the same number of threads in the same chunks (StepPlan on an Executor).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "executor.hpp"
#include "kernels/stream_kernel.hpp"
#include "simdoptim/optimizer.hpp"
#include "step_plan.hpp"

namespace simdoptim::bench {

// Bytes moved per element by a single fused pass that reads the parameter, the gradient and
// `state_arrays` state arrays and writes the parameter and the state arrays back (fp32):
// 12 + 8 * state_arrays. SGD 12, SGD-momentum 20, Adam/AdamW 28, Adam amsgrad 36. With
// `storage`, each array by its element size, plus the 16-bit copy master weights write.
double fused_bytes_per_element(std::size_t state_arrays, const StorageOptions& storage = {});

class MemoryReference {
 public:
  // Mirrors every param group of `optimizer`, which must have stepped once (so that its state
  // arrays exist). Runs the `isa` build of the pattern kernel on `threads` threads.
  MemoryReference(Optimizer& optimizer, Isa isa, int threads);
  MemoryReference(const MemoryReference&) = delete;
  MemoryReference& operator=(const MemoryReference&) = delete;

  // One pass over every group.
  void step() noexcept;

  // "triad", "sgd_pattern" or "adam_pattern".
  const std::string& kernel_name() const noexcept { return kernel_name_; }
  // Bytes per element the kernel moves.
  double bytes_per_element() const noexcept { return bytes_per_element_; }
  // False when no kernel has the optimizer's exact pattern (3+ state arrays): the closest one
  // runs and times must be scaled by the byte ratio.
  bool exact() const noexcept { return exact_; }
  // Whether the parameter mirror got MADV_HUGEPAGE (large enough and accepted by the kernel).
  bool huge_pages_requested() const noexcept;

 private:
  struct Group {
    std::vector<std::unique_ptr<detail::AlignedBuffer>> arrays;
    detail::StreamArgs args;
    detail::StoragePatternArgs storage_args;  // groups with 16-bit storage
    std::size_t padded_numel = 0;
  };
  void run(detail::KernelFn<detail::StreamArgs> kernel) noexcept;
  // A group with 16-bit storage: storage_pattern over arrays of its element sizes.
  void add_storage_group(const ParamGroup& group, std::size_t states);

  detail::Executor executor_;
  detail::KernelFn<detail::StreamArgs> kernel_;
  std::string kernel_name_;
  double bytes_per_element_ = 0;
  bool exact_ = true;
  std::vector<Group> groups_;
  detail::StepPlan<detail::StreamArgs> plan_;
  detail::KernelFn<detail::StoragePatternArgs> storage_kernel_ = nullptr;
  detail::StepPlan<detail::StoragePatternArgs> storage_plan_;
};

}  // namespace simdoptim::bench
