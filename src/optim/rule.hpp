#pragma once
// The vocabulary of an elementwise optimizer's description (src/optim/<name>.cpp); the
// multi-pass optimizers there (LAMB, LARS, Adafactor, LBFGS) use its OptionSpec and StateSpec
// tables too. A description is a struct with:
//   options[]          OptionSpec rows: name, torch's default, valid range, one-line doc
//   states[]           StateSpec rows: the state arrays, when they exist, their initial value
//   tensor_scalars[]   TensorScalarSpec rows: scalar state torch keeps per tensor (may be empty)
//   torch_signature    torch's constructor, names only, defaults from options[] (may be absent):
//                      "Adam(params, lr, betas, ..., *, foreach, ...)": the class name, then
//                      inspect.signature's parameters in order, `*` before the keyword-only
//                      ones; `betas`, `etas`, `step_sizes` stand for the option pairs (beta1,
//                      beta2), (etaminus, etaplus), (step_size_min, step_size_max); `foreach`,
//                      `capturable`, `differentiable`, `fused` are torch's implementation
//                      switches (no option); `lr=required` is an argument torch requires.
//                      Options it does not name follow torch's as keyword-only arguments.
//   torch_step         false when torch's state[p] has no 'step' (SGD); absent: true
//   Flags              a struct of bools, fixed per kernel call, each turned into a template
//                      argument so inner loops carry no branches
//   Coefs<V>           a struct whose members are all V: the per-call scalars, computed on the
//                      host in double, rounded to float once, broadcast to V in the kernel
//   prepare(options, step, scalars) -> Call{Flags, Coefs<float>}: the host side of one call
//   update<Flags F>(const Coefs<V>&, const auto& x): the element update, written once over V
//   (float: the scalar reference; an xsimd batch: the kernel of one instruction set), on fp32
//   values whatever the arrays' storage formats; x is an Element<V, Layout> (rule_kernel.hpp)
// optim/rule_kernel.hpp turns update() into kernels, optim/elementwise_optimizer.cpp runs them.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "kernels/ops.hpp"
#include "simdoptim/group_options.hpp"

namespace simdoptim::detail {

// How an option is checked (torch's constructor checks; NaN fails every one of them).
enum class Check {
  non_negative,  // x >= 0
  unit,          // 0 <= x < 1
  unit_closed,   // 0 <= x <= 1
  flag,          // 0 or 1
  number,        // not NaN
  count,         // an integer in [1, 2^53]
  custom,        // the description's validate() checks it
};

struct OptionSpec {
  std::string_view name;
  double default_value;
  Check check;
  std::string_view doc;
};

struct StateSpec {
  std::string_view name;
  // The option that must be non-zero for the array to exist; empty: always.
  std::string_view when = {};
  // The option whose value (rounded to float) the array starts at; empty: zero.
  std::string_view init = {};
  // The array never holds negative values (a second moment): 8-bit state stores it companded
  // (kernels/quant8.hpp).
  bool non_negative = false;
};

struct TensorScalarSpec {
  std::string_view name;
  double initial;  // before the tensor's first step
};

// What the host knows of the tensors of one kernel call.
struct StepInfo {
  std::int64_t step = 0;  // the step count after this step (torch's state['step'])
  bool first = false;     // this is the tensors' first step
};

// torch's step scalars are computed in double and used as float32 by the tensor ops.
inline float f32(double x) noexcept {
  return static_cast<float>(x);
}

}  // namespace simdoptim::detail
