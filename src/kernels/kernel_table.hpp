#pragma once
// The entry points every kernel build exports, and the per-optimizer argument blocks. Scalars
// are computed in double on the host and rounded to float once, as torch does for fp32 tensors.
#include <cstddef>

#include "simdoptim/isa.hpp"

namespace simdoptim::detail {

// Every kernel updates elements [begin, end) of its arrays; begin and end are multiples of
// ParamGroup::kTensorAlign and the arrays are 64-byte aligned, so no build needs a scalar tail.
template <class Args>
using KernelFn = void (*)(const Args& args, std::size_t begin, std::size_t end) noexcept;

struct SgdArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* momentum_buffer = nullptr;  // null when momentum == 0
  float neg_lr = 0;
  float momentum = 0;
  float one_minus_dampening = 1;
  float weight_decay = 0;
  bool maximize = false;
  bool nesterov = false;
  bool first_step = false;  // the buffer is created as a copy of the gradient (torch)
};

struct AdamArgs {
  float* param = nullptr;
  const float* grad = nullptr;
  float* exp_avg = nullptr;
  float* exp_avg_sq = nullptr;
  float* max_exp_avg_sq = nullptr;  // null unless amsgrad
  float beta1 = 0;
  float one_minus_beta1 = 0;
  float beta2 = 0;
  float one_minus_beta2 = 0;
  float neg_step_size = 0;           // -lr / (1 - beta1^t)
  float inv_bias_correction2_sqrt = 0;  // 1 / sqrt(1 - beta2^t)
  float eps = 0;
  float weight_decay = 0;  // L2 term added to the gradient (Adam); 0 for none
  float decay_factor = 1;  // decoupled decay p *= 1 - lr * wd (AdamW); 1 for none
  bool maximize = false;
};

// Memory-only kernels for benchmarks: the physical limit of an access pattern.
struct StreamArgs {
  float* a = nullptr;
  float* b = nullptr;
  float* c = nullptr;
  float* d = nullptr;
  float scalar = 0;
};

struct KernelTable {
  Isa isa;
  KernelFn<SgdArgs> sgd;
  KernelFn<AdamArgs> adam;
  // Adam's access pattern with trivial arithmetic: reads a, b, c, d; writes a, c, d.
  KernelFn<StreamArgs> adam_pattern;
  // SGD-momentum's pattern: reads a, b, c; writes a, c.
  KernelFn<StreamArgs> sgd_pattern;
  // STREAM triad: a = b + scalar * c.
  KernelFn<StreamArgs> triad;
};

// The table of `isa`; throws std::invalid_argument when this CPU or binary lacks it.
const KernelTable& kernel_table(Isa isa);

// Declared by each build (src/kernels/isa_kernels.cpp) and by the scalar reference.
namespace scalar {
extern const KernelTable table;
}
namespace sse2 {
extern const KernelTable table;
}
namespace avx2 {
extern const KernelTable table;
}
namespace avx512 {
extern const KernelTable table;
}
namespace neon {
extern const KernelTable table;
}

}  // namespace simdoptim::detail
