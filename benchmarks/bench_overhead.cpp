// Fixed per-step costs that the element-throughput suites cannot see: a step over tiny groups
// (the bookkeeping of segments, per-step scalars and dispatch, target: < 2 us for a
// group of 10 tensors), and zero_grad over many tensors or a ResNet-50-sized arena.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "simdoptim/adam.hpp"
#include "simdoptim/sgd.hpp"
#include "workloads/resnet50_shapes.hpp"

namespace {

using simdoptim::Optimizer;
using simdoptim::ParamSpec;

enum OptimizerKind : int { kAdam, kAdamW, kSgdMomentum };

std::unique_ptr<Optimizer> make(int kind, std::vector<ParamSpec> params) {
  switch (kind) {
    case kAdam:
      return std::make_unique<simdoptim::Adam>(std::move(params));
    case kAdamW:
      return std::make_unique<simdoptim::AdamW>(std::move(params));
    default: {
      simdoptim::SGDOptions o;
      o.momentum = 0.9;
      return std::make_unique<simdoptim::SGD>(std::move(params), o);
    }
  }
}

const char* kind_name(int kind) {
  static const char* const names[] = {"adam", "adamw", "sgd_momentum"};
  return names[kind];
}

std::vector<ParamSpec> tensors(std::size_t count, std::int64_t numel) {
  std::vector<ParamSpec> params;
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = "t";  // not "t" + to_string: GCC 12 warns falsely (-Wrestrict) on that
    name += std::to_string(i);
    params.push_back({std::move(name), {numel}, {}});
  }
  return params;
}

// Gradients present and non-zero, state allocated: the steady state of a training loop.
void prepare(Optimizer& opt) {
  for (auto& group : opt.param_groups())
    for (std::size_t i = 0; i < group.size(); ++i) {
      auto g = group.grad(i).data;
      std::fill(g.begin(), g.end(), 1e-3f);
    }
  opt.step();
}

// A step over range(1) tensors of range(2) elements each; per-step time is the fixed cost
// when the tensors are tiny. The counter gives the cost per tensor.
void BM_step_small_group(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  const auto count = static_cast<std::size_t>(state.range(1));
  auto opt = make(kind, tensors(count, state.range(2)));
  prepare(*opt);
  for (auto _ : state) {
    opt->step();
    benchmark::ClobberMemory();
  }
  state.SetLabel(kind_name(kind));
  state.counters["per_tensor"] =
      benchmark::Counter(static_cast<double>(count), benchmark::Counter::kIsIterationInvariantRate |
                                                         benchmark::Counter::kInvert);
}
BENCHMARK(BM_step_small_group)
    ->ArgNames({"opt", "tensors", "numel"})
    ->ArgsProduct({{kAdam, kAdamW, kSgdMomentum}, {10}, {1, 16}})
    ->ArgsProduct({{kAdam, kAdamW, kSgdMomentum}, {1000}, {1}});

// zero_grad(set_to_none=true) followed by an engine marking every gradient present again
// (set_has_grad): the per-iteration bookkeeping over range(0) tensors.
void BM_zero_grad_set_to_none(benchmark::State& state) {
  const auto count = static_cast<std::size_t>(state.range(0));
  auto opt = make(kSgdMomentum, tensors(count, 1));
  prepare(*opt);
  auto& group = opt->param_groups().front();
  for (auto _ : state) {
    opt->zero_grad(true);
    for (std::size_t i = 0; i < count; ++i) group.set_has_grad(i, true);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_zero_grad_set_to_none)->ArgName("tensors")->Arg(10)->Arg(161)->Arg(1000);

// zero_grad(set_to_none=false) over ResNet-50's gradients: a memset of 25.6M floats
// (4 B/element written).
void BM_zero_grad_fill_resnet50(benchmark::State& state) {
  auto opt = make(kSgdMomentum, simdoptim::workloads::resnet50_params());
  prepare(*opt);
  std::size_t numel = 0;
  for (auto& group : opt->param_groups()) numel += group.padded_numel();
  for (auto _ : state) {
    opt->zero_grad(false);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(numel * sizeof(float)));
}
BENCHMARK(BM_zero_grad_fill_resnet50)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
