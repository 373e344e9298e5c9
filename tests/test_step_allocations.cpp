// After its first steps have grown the scratch an optimizer owns, step() allocates nothing: the
// hot path's rule, checked by counting every operator new of this program.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "simdoptim/simdoptim.hpp"

namespace {
std::atomic<long> g_allocations{0};

void* allocate(std::size_t n, std::size_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  n = n == 0 ? 1 : n;
  void* p = align <= alignof(std::max_align_t)
                ? std::malloc(n)
                : std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(std::size_t n) {
  return allocate(n, alignof(std::max_align_t));
}
void* operator new(std::size_t n, std::align_val_t a) {
  return allocate(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

using namespace simdoptim;

TEST_CASE("step() allocates nothing once the first steps have run", "[api]") {
  const std::string name = GENERATE(as<std::string>{}, "sgd", "adam", "lamb", "lars", "adafactor");
  const Isa isa = GENERATE(Isa::scalar, default_isa());
  INFO(name << " on " << isa_name(isa));
  // Options that reach the extra passes: LAMB's clipping and trust ratio, LARS's trust ratio and
  // momentum; two groups of vector and matrix tensors, and the non-finite check.
  GroupOptions options;
  if (name == "lars") options = {{"weight_decay", 0.1}, {"momentum", 0.9}};
  std::unique_ptr<Optimizer> opt = make_optimizer(name, RuntimeOptions{isa, 1});
  opt->set_skip_if_nonfinite(true);
  for (int g = 0; g < 2; ++g) {
    std::vector<ParamSpec> specs;
    const std::vector<Shape> shapes = {{3}, {17, 5}, {2, 3, 33}};
    for (std::size_t t = 0; t < shapes.size(); ++t)
      specs.push_back({"g" + std::to_string(g) + "t" + std::to_string(t), shapes[t], {}});
    ParamGroup& group = opt->add_param_group(std::move(specs), options);
    for (std::size_t t = 0; t < group.size(); ++t) {
      auto p = group.param(t).data;
      for (std::size_t i = 0; i < p.size(); ++i) p[i] = 0.01f * static_cast<float>(i % 7 + 1);
    }
  }
  auto write_grads = [&](int step) {
    for (ParamGroup& group : opt->param_groups())
      for (std::size_t t = 0; t < group.size(); ++t) {
        auto g = group.grad(t).data;
        for (std::size_t i = 0; i < g.size(); ++i)
          g[i] = 0.1f * static_cast<float>((i + t + static_cast<std::size_t>(step)) % 5) - 0.2f;
      }
  };
  const long first = g_allocations.load();
  for (int step = 0; step < 2; ++step) {
    write_grads(step);
    opt->step();
  }
  CHECK(g_allocations.load() > first);  // the counting operator new is the one in use
  long allocations = 0;
  for (int step = 2; step < 5; ++step) {
    write_grads(step);
    const long before = g_allocations.load();
    opt->step();
    allocations += g_allocations.load() - before;
  }
  CHECK(allocations == 0);
}

TEST_CASE("step with engine gradients and clip_grad_norm_and_step allocate nothing once warm",
          "[api]") {
  const std::string name = GENERATE(as<std::string>{}, "adam", "lamb");
  INFO(name);
  std::unique_ptr<Optimizer> opt = make_optimizer(name, RuntimeOptions{default_isa(), 1});
  opt->set_skip_if_nonfinite(true);
  opt->add_param_group({{"a", {3}, {}}, {"b", {17, 5}, {}}, {"c", {2, 3, 33}, {}}});
  std::vector<std::vector<float>> buffers;
  std::vector<const float*> pointers;
  for (std::size_t n : {3, 85, 198}) buffers.emplace_back(n, 0.25f);
  for (const auto& b : buffers) pointers.push_back(b.data());
  pointers[1] = nullptr;  // no gradient
  for (int step = 0; step < 2; ++step) {
    opt->step(StepGrads{pointers, 0.5f});
    clip_grad_norm_and_step(*opt, 0.1, 2.0, false, pointers);
  }
  const long before = g_allocations.load();
  for (int step = 0; step < 3; ++step) {
    opt->step(StepGrads{pointers, 0.5f});
    clip_grad_norm_and_step(*opt, 0.1, 2.0, false, pointers);
  }
  CHECK(g_allocations.load() == before);
}
