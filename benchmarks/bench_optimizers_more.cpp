// RMSprop, Adagrad, NAdam, RAdam, Adamax, Adadelta, Rprop and ASGD steps against the memory-only
// kernel of the same access pattern, in the same run: one tensor of 2^16 .. 2^26 fp32 elements,
// 1 and 2 threads, the best instruction set (SIMDOPTIM_ISA forces another).
//
// Bytes per element (fp32, one step; counters report them as bytes_per_second):
//   RMSprop (defaults), Adagrad: read p, g, s; write p, s             = 20 B (sgd_pattern)
//   RMSprop momentum, NAdam, RAdam, Adamax, Adadelta, Rprop:
//                         read p, g, s1, s2; write p, s1, s2          = 28 B (adam_pattern)
//   ASGD (defaults: t0 = 1e6, so ax is a copy of p): read p, g; write p, ax
//                                                                     = 16 B (asgd_pattern)
//
//   build-opt8a/benchmarks/bench_optimizers_more --benchmark_min_time=0.5
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <vector>

#include "executor.hpp"
#include "kernels/stream_kernel.hpp"
#include "kernels/stream_kernel.hpp"
#include "simdoptim/simdoptim.hpp"
#include "step_plan.hpp"

namespace {

using namespace simdoptim;

std::size_t elements(const benchmark::State& state) {
  return std::size_t{1} << static_cast<unsigned>(state.range(0));
}
int threads(const benchmark::State& state) {
  return static_cast<int>(state.range(1));
}

// One step of `make`'s optimizer over one tensor with a gradient, `bytes` per element.
void run_optimizer(benchmark::State& state, std::size_t bytes,
                   const std::function<std::unique_ptr<Optimizer>(RuntimeOptions)>& make) {
  const std::size_t n = elements(state);
  auto opt = make({std::nullopt, threads(state)});
  auto& group =
      opt->add_param_group({{"w", {static_cast<std::int64_t>(n)}, std::vector<float>(n, 0.5f)}});
  for (float& g : group.grad(0).data) g = 1e-3f;
  opt->step();  // allocates and first-touches the state
  for (auto _ : state) opt->step();
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n * bytes));
  state.SetLabel(isa_name(opt->isa()));
}

struct FreeDeleter {
  void operator()(float* p) const noexcept { std::free(p); }
};

// The memory-only kernel `pick(isa)` over four arrays of n elements, split like a step.
template <class Pick>
void run_pattern(benchmark::State& state, std::size_t bytes, Pick pick) {
  const std::size_t n = elements(state);
  std::unique_ptr<float, FreeDeleter> arrays[4];
  detail::StreamArgs args;
  float** slots[4] = {&args.a, &args.b, &args.c, &args.d};
  for (int k = 0; k < 4; ++k) {
    arrays[k].reset(static_cast<float*>(std::aligned_alloc(64, n * sizeof(float))));
    *slots[k] = arrays[k].get();
  }
  detail::Executor executor(threads(state));
  // First touch inside the same partition as the timed runs, as the optimizers do.
  detail::StepPlan<detail::StreamArgs> fill;
  fill.add(args, 0, n);
  fill.run(
      executor, +[](const detail::StreamArgs& a, std::size_t b, std::size_t e) noexcept {
        for (std::size_t i = b; i < e; ++i) a.a[i] = a.b[i] = a.c[i] = a.d[i] = 0.5f;
      });
  const Isa isa = default_isa();
  const auto kernel = pick(isa);
  detail::StepPlan<detail::StreamArgs> plan;
  for (auto _ : state) {
    plan.clear();
    plan.add(args, 0, n);
    plan.run(executor, kernel);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n * bytes));
  state.SetLabel(isa_name(isa));
}

template <class Opt, class Options>
auto factory(Options options) {
  return [options](RuntimeOptions r) -> std::unique_ptr<Optimizer> {
    return std::make_unique<Opt>(options, r);
  };
}

void BM_sgd_pattern(benchmark::State& s) {
  run_pattern(s, 20, detail::sgd_pattern_kernel);
}
void BM_adam_pattern(benchmark::State& s) {
  run_pattern(s, 28, detail::adam_pattern_kernel);
}
void BM_asgd_pattern(benchmark::State& s) {
  run_pattern(s, 16, detail::asgd_pattern_kernel);
}

void BM_rmsprop(benchmark::State& s) {
  run_optimizer(s, 20, factory<RMSprop>(RMSpropOptions{}));
}
void BM_rmsprop_momentum(benchmark::State& s) {
  run_optimizer(s, 28, factory<RMSprop>(RMSpropOptions{.momentum = 0.9}));
}
void BM_adagrad(benchmark::State& s) {
  run_optimizer(s, 20, factory<Adagrad>(AdagradOptions{}));
}
void BM_nadam(benchmark::State& s) {
  run_optimizer(s, 28, factory<NAdam>(NAdamOptions{}));
}
void BM_radam(benchmark::State& s) {
  run_optimizer(s, 28, factory<RAdam>(RAdamOptions{}));
}
void BM_adamax(benchmark::State& s) {
  run_optimizer(s, 28, factory<Adamax>(AdamaxOptions{}));
}
void BM_adadelta(benchmark::State& s) {
  run_optimizer(s, 28, factory<Adadelta>(AdadeltaOptions{}));
}
void BM_rprop(benchmark::State& s) {
  run_optimizer(s, 28, factory<Rprop>(RpropOptions{}));
}
void BM_asgd(benchmark::State& s) {
  run_optimizer(s, 16, factory<ASGD>(ASGDOptions{}));
}

// log2(elements) x threads.
void sizes(benchmark::internal::Benchmark* b) {
  for (int log2n : {16, 20, 24, 26})
    for (int t : {1, 2}) b->Args({log2n, t});
  b->ArgNames({"log2n", "threads"})->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK(BM_sgd_pattern)->Apply(sizes);
BENCHMARK(BM_rmsprop)->Apply(sizes);
BENCHMARK(BM_adagrad)->Apply(sizes);
BENCHMARK(BM_adam_pattern)->Apply(sizes);
BENCHMARK(BM_rmsprop_momentum)->Apply(sizes);
BENCHMARK(BM_nadam)->Apply(sizes);
BENCHMARK(BM_radam)->Apply(sizes);
BENCHMARK(BM_adamax)->Apply(sizes);
BENCHMARK(BM_adadelta)->Apply(sizes);
BENCHMARK(BM_rprop)->Apply(sizes);
BENCHMARK(BM_asgd_pattern)->Apply(sizes);
BENCHMARK(BM_asgd)->Apply(sizes);

}  // namespace

BENCHMARK_MAIN();
