// The quick demo: AdamW over ResNet-50's parameters (as the Swin recipe groups them: weight
// decay on conv/linear weights, none on 1-D tensors), a few steps, and how fast they ran.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <random>
#include <vector>

#include "simdoptim/simdoptim.hpp"
#include "workloads/resnet50_shapes.hpp"

int main() {
  try {
    using namespace simdoptim;
    std::vector<ParamSpec> decay, no_decay;
    std::mt19937 rng(0);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (auto& p : workloads::resnet50_params()) {
      p.init.resize(numel_of(p.shape));
      for (float& x : p.init) x = normal(rng);
      (p.shape.size() == 1 ? no_decay : decay).push_back(std::move(p));
    }
    AdamW opt(AdamWOptions{.lr = 1e-3, .weight_decay = 0.05});
    opt.add_param_group(std::move(decay));
    opt.add_param_group(std::move(no_decay), {{"weight_decay", 0.0}});
    std::size_t numel = 0, tensors = 0;
    for (auto& g : opt.param_groups()) {
      tensors += g.size();
      for (std::size_t i = 0; i < g.size(); ++i) numel += g.info(i).numel;
    }
    std::printf("AdamW on ResNet-50: %zu tensors, %zu elements in %zu groups\n", tensors, numel,
                opt.param_groups().size());
    std::printf("instruction set: %s, threads: %d\n", isa_name(opt.isa()), opt.num_threads());

    const int steps = 20;
    std::vector<double> ns_per_element;
    for (int s = 0; s < steps; ++s) {
      opt.zero_grad();
      for (auto& g : opt.param_groups())
        for (std::size_t i = 0; i < g.size(); ++i)
          for (float& x : g.grad(i).data) x = 1e-3f * static_cast<float>(s % 7 - 3);
      const auto t0 = std::chrono::steady_clock::now();
      opt.step();
      const auto t1 = std::chrono::steady_clock::now();
      ns_per_element.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() /
                               static_cast<double>(numel));
    }
    std::sort(ns_per_element.begin() + 1, ns_per_element.end());  // step 1 allocates state
    const double median = ns_per_element[1 + (steps - 1) / 2];
    std::printf("%d steps: median %.3f ns/element (%.2f ms/step, %.1f GB/s at 28 B/element)\n",
                steps, median, median * static_cast<double>(numel) * 1e-6, 28.0 / median);
    auto& w = opt.param_groups()[0];
    std::printf("%s[0] after %d steps: %.6f (step count %lld)\n", w.info(0).name.c_str(), steps,
                static_cast<double>(w.param(0).data[0]), static_cast<long long>(w.step_count(0)));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simdoptim-demo: %s\n", e.what());
    return 1;
  }
}
