// AdamW (and SGD with momentum, Lion) with 16-bit parameters, gradients and state and 8-bit
// block-quantized state, against a memory-only kernel with each variant's own access pattern
// (storage_pattern: the same arrays, element sizes and tiles) and against fp32 AdamW, in the
// same run. The kernels run on arrays allocated and split over threads as the arenas are
// (AlignedBuffer, StepPlan).
//
// Bytes per parameter of an AdamW step (read + written):
//   fp32                                         p 4+4, g 4, m 4+4, v 4+4         = 28
//   state bf16                                   p 4+4, g 4, m 2+2, v 2+2         = 20
//   param, grad bf16, state fp32
//                                                p 2+2, g 2, m 4+4, v 4+4         = 22
//   all bf16 (nearest-even or stochastic)        p 2+2, g 2, m 2+2, v 2+2         = 14
//   offload: fp32 master and state, bf16 grads in, bf16 params out
//                                                p 4+4, g 2, m 4+4, v 4+4, copy 2 = 28
//   state q8 (codes + a scale per 256)           p 4+4, g 4, m 1+1, v 1+1 (+0.06) = 16.06
//   param, grad bf16, state q8                   p 2+2, g 2, m 1+1, v 1+1 (+0.06) = 10.06
// Counters: ns_per_elem, bytes_per_second (from the bytes above), state_bytes_per_param (the
// optimizer state's resident bytes).
//   build/benchmarks/bench_precision --benchmark_filter='n:2\^26'
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "aligned_buffer.hpp"
#include "executor.hpp"
#include "kernels/half.hpp"
#include "kernels/stream_kernel.hpp"
#include "optim/elementwise_rule.hpp"
#include "simdoptim/simdoptim.hpp"
#include "step_plan.hpp"

namespace {

using namespace simdoptim;
using detail::Storage;

struct Variant {
  std::string name;
  Storage param;  // fp32 with a copy: master weights
  Storage grad;
  Storage state;
  bool copy = false;        // master weights write a bf16 copy
  bool stochastic = false;  // bf16 params by stochastic rounding
  bool q8 = false;          // 8-bit block-quantized state (`state` unused)
};

const Variant kVariants[] = {
    {"f32", Storage::f32, Storage::f32, Storage::f32},
    {"state_bf16", Storage::f32, Storage::f32, Storage::bf16},
    {"param_grad_bf16", Storage::bf16, Storage::bf16, Storage::f32},
    {"all_bf16", Storage::bf16, Storage::bf16, Storage::bf16},
    {"all_bf16_sr", Storage::bf16, Storage::bf16, Storage::bf16, false, true},
    {"offload_bf16", Storage::f32, Storage::bf16, Storage::f32, true},
    {"all_f16", Storage::f16, Storage::f16, Storage::bf16},
    {"state_q8", Storage::f32, Storage::f32, Storage::f32, false, false, true},
    {"param_grad_bf16_state_q8", Storage::bf16, Storage::bf16, Storage::f32, false, false, true},
};

struct Optimizer {
  std::string name;
  GroupOptions options;
  std::size_t states;
};

const Optimizer kOptimizers[] = {
    {"adamw", {}, 2},
    {"sgd", {{"lr", 0.01}, {"momentum", 0.9}}, 1},
    {"lion", {}, 1},
};

double size_of(Storage s) {
  return static_cast<double>(detail::storage_size(s));
}

// Bytes of one state element: q8's code and its share of the block's fp32 scale.
double state_size(const Variant& v) {
  return v.q8 ? 1.0 + 4.0 / detail::kQuantBlock : size_of(v.state);
}

double step_bytes(const Variant& v, std::size_t states) {
  return 2 * size_of(v.param) + size_of(v.grad) + 2 * static_cast<double>(states) * state_size(v) +
         (v.copy ? 2 : 0);
}

// The arrays of one variant, n elements each (padded as an arena is).
struct Arrays {
  Arrays(std::size_t n, const Variant& v, std::size_t states)
      : param(n, 0), grad(n, 1), copy(v.copy ? n : 16, 2) {
    for (std::size_t k = 0; k < states; ++k)
      state.push_back(std::make_unique<detail::AlignedBuffer>(n, 3 + k));
  }
  detail::AlignedBuffer param, grad, copy;
  std::vector<std::unique_ptr<detail::AlignedBuffer>> state;
};

template <class Args>
void run_plan(detail::Executor& executor, detail::StepPlan<Args>& plan, const Args& args,
              std::size_t n, detail::KernelFn<Args> kernel) {
  plan.clear();
  plan.add(args, 0, n);
  plan.run(executor, kernel);
}

void set_counters(benchmark::State& st, std::size_t n, double bytes, double state_bytes) {
  const auto count = static_cast<double>(n);
  st.SetBytesProcessed(static_cast<std::int64_t>(st.iterations()) *
                       static_cast<std::int64_t>(count * bytes));
  st.counters["ns_per_elem"] = benchmark::Counter(
      count * 1e-9, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  st.counters["state_bytes_per_param"] = state_bytes;
}

void bench_step(benchmark::State& st, const Optimizer& o, const Variant& v, std::size_t n, Isa isa,
                int threads) {
  const detail::ElementwiseRule& rule = *detail::find_registration(o.name)->rule;
  GroupOptions options = detail::defaults_of(rule.options);
  for (const auto& [k, x] : o.options.items()) options.set(k, x);
  Arrays arrays(n, v, o.states);
  // Gradients of 1e-3 in every format (zero bits are zero in each).
  if (v.grad == Storage::f32) {
    std::fill(arrays.grad.data(), arrays.grad.data() + n, 1e-3f);
  } else {
    auto* g = reinterpret_cast<std::uint16_t*>(arrays.grad.data());
    const std::uint16_t h =
        v.grad == Storage::bf16 ? detail::bf16_from_f32(1e-3f) : detail::f16_from_f32(1e-3f);
    std::fill(g, g + n, h);
  }
  detail::ElementwiseArgs args;
  if (v.param == Storage::f32)
    args.param = arrays.param.data();
  else
    args.param16 = {reinterpret_cast<std::uint16_t*>(arrays.param.data()), v.param};
  if (v.grad == Storage::f32)
    args.grad = arrays.grad.data();
  else
    args.grad16 = {reinterpret_cast<const std::uint16_t*>(arrays.grad.data()), v.grad};
  if (v.copy)
    args.param_copy = {reinterpret_cast<std::uint16_t*>(arrays.copy.data()), Storage::bf16};
  args.stochastic_rounding = v.stochastic;
  for (std::size_t k = 0; k < o.states; ++k) {
    if (v.q8) {
      // Codes, then one scale per block (the arena's layout); the last state is a second moment.
      args.state8[k] = reinterpret_cast<std::uint8_t*>(arrays.state[k]->data());
      args.state8_scales[k] = arrays.state[k]->data() + n / 4;
      if (o.states == 2 && k == 1) args.state8_non_negative |= 1U << k;
    } else if (v.state == Storage::f32)
      args.state[k] = arrays.state[k]->data();
    else
      args.state16[k] = reinterpret_cast<std::uint16_t*>(arrays.state[k]->data());
  }
  args.state16_format = v.state;
  detail::Executor executor(threads);
  detail::StepPlan<detail::ElementwiseArgs> plan;
  const auto kernel = rule.kernel(isa);
  std::int64_t step = 0;
  auto one_step = [&] {
    ++step;
    rule.prepare(options, {step, step == 1}, {}, args);
    args.rounding_key = detail::rounding_key(1, static_cast<std::uint64_t>(step));
    run_plan(executor, plan, args, n, kernel);
  };
  one_step();  // first touch
  for (auto _ : st) one_step();
  set_counters(st, n, step_bytes(v, o.states), static_cast<double>(o.states) * state_size(v));
}

void bench_pattern(benchmark::State& st, const Variant& v, std::size_t states, std::size_t n,
                   Isa isa, int threads) {
  Arrays arrays(n, v, states);
  detail::StoragePatternArgs args;
  args.rw[0] = arrays.param.data();
  args.rw_size[0] = detail::storage_size(v.param);
  for (std::size_t k = 0; k < states; ++k) {
    args.rw[1 + k] = arrays.state[k]->data();
    // q8: the codes (the scales, 4 bytes per 256 elements, are left out).
    args.rw_size[1 + k] = v.q8 ? 1 : detail::storage_size(v.state);
  }
  args.ro = arrays.grad.data();
  args.ro_size = detail::storage_size(v.grad);
  if (v.copy) args.wo = arrays.copy.data();
  detail::Executor executor(threads);
  detail::StepPlan<detail::StoragePatternArgs> plan;
  const auto kernel = detail::storage_pattern_kernel(isa);
  run_plan(executor, plan, args, n, kernel);
  for (auto _ : st) run_plan(executor, plan, args, n, kernel);
  set_counters(st, n, step_bytes(v, states), static_cast<double>(states) * state_size(v));
}

void register_all() {
  const Isa isa = best_isa();
  for (int log2 : {20, 26}) {
    const std::size_t n = std::size_t{1} << log2;
    for (int threads : {1, 2}) {
      const std::string suffix = "/" + std::string(isa_name(isa)) + "/n:2^" + std::to_string(log2) +
                                 "/threads:" + std::to_string(threads);
      auto add = [&](const std::string& name, auto fn) {
        benchmark::RegisterBenchmark((name + suffix).c_str(), fn)
            ->Unit(benchmark::kMillisecond)
            ->UseRealTime();
      };
      for (const Optimizer& o : kOptimizers)
        for (const Variant& v : kVariants) {
          if (o.name != "adamw" && v.name != "f32" && v.name != "all_bf16" && v.name != "state_q8")
            continue;
          add(o.name + "_" + v.name,
              [=](benchmark::State& st) { bench_step(st, o, v, n, isa, threads); });
          add(o.name + "_" + v.name + "_pattern",
              [=](benchmark::State& st) { bench_pattern(st, v, o.states, n, isa, threads); });
        }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
