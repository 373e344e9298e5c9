// Steps AdamW once through the installed library and checks the parameter moved as expected.
#include <cmath>
#include <cstdio>
#include <simdoptim/simdoptim.hpp>

int main() {
  simdoptim::AdamW opt(simdoptim::AdamWOptions{.lr = 0.1, .weight_decay = 0.0});
  opt.add_param_group({{"w", {4}, {1, 1, 1, 1}}});
  for (float& g : opt.grad("w").data) g = 1.0f;
  opt.step();
  // The first Adam step moves every element by lr (m / sqrt(v) = 1 after bias correction).
  const float w = opt.param("w").data[0];
  std::printf("consumer: w = %.6f with %s\n", static_cast<double>(w),
              simdoptim::isa_name(opt.isa()));
  return std::fabs(w - 0.9f) < 1e-6f ? 0 : 1;
}
