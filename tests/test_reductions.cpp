// Per-tensor reductions: the same bits on every build and thread count, and accurate.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "executor.hpp"
#include "simdoptim/simdoptim.hpp"
#include "tensor_reductions.hpp"
#include "thread_counts.hpp"

using namespace simdoptim;
using detail::Reduction;

namespace {

ParamGroup make_group() {
  std::vector<ParamSpec> specs;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  // Around the lane count, the block (1024) and the chunk (65536), and a large prime.
  for (std::int64_t n : {0, 1, 15, 16, 17, 1023, 1025, 65536, 65537, 200003}) {
    ParamSpec s{std::to_string(n), {n}, {}};
    s.init.resize(static_cast<std::size_t>(n));
    for (float& x : s.init) x = normal(rng);
    specs.push_back(std::move(s));
  }
  return ParamGroup(std::move(specs), {});
}

std::vector<double> reduce(ParamGroup& g, Isa isa, int threads, Reduction r) {
  detail::Executor executor(threads);
  detail::TensorReducer reducer;
  std::vector<double> out(g.size());
  reducer.run(
      executor, isa, g, g.param_arena().data(), r, [](std::size_t i) { return i != 2; }, out);
  return out;
}

}  // namespace

TEST_CASE("reductions give the same bits on every build and thread count", "[reduce]") {
  ParamGroup g = make_group();
  for (Reduction r : {Reduction::sum_squares, Reduction::abs_max}) {
    const auto ref = reduce(g, Isa::scalar, 1, r);
    for (Isa isa : supported_isas())
      for (int threads : thread_counts::up_to_cap({1, 2, 3})) {
        INFO("isa=" << isa_name(isa) << " threads=" << threads);
        const auto got = reduce(g, isa, threads, r);
        CHECK(std::memcmp(got.data(), ref.data(), ref.size() * sizeof(double)) == 0);
      }
  }
}

TEST_CASE("reductions are accurate and skip unselected tensors", "[reduce]") {
  ParamGroup g = make_group();
  const auto sq = reduce(g, best_isa(), thread_counts::capped(2), Reduction::sum_squares);
  const auto mx = reduce(g, best_isa(), thread_counts::capped(2), Reduction::abs_max);
  for (std::size_t i = 0; i < g.size(); ++i) {
    long double exact = 0;
    float amax = 0;
    for (float x : g.param(i).data) {
      exact += static_cast<long double>(x) * x;
      amax = std::max(amax, std::fabs(x));
    }
    INFO(g.info(i).name);
    if (i == 2) {
      CHECK(sq[i] == 0.0);  // not selected
      continue;
    }
    // Float lanes over 64 terms per block: relative error well below 1e-6.
    CHECK(sq[i] == Approx(static_cast<double>(exact)).epsilon(1e-6).margin(1e-300));
    CHECK(mx[i] == static_cast<double>(amax));
  }
}

TEST_CASE("reductions propagate NaN and Inf", "[reduce]") {
  ParamGroup g = make_group();
  g.param(9).data[1234] = std::numeric_limits<float>::quiet_NaN();
  g.param(8).data[65536] = -std::numeric_limits<float>::infinity();
  for (Isa isa : supported_isas()) {
    const auto sq = reduce(g, isa, thread_counts::capped(2), Reduction::sum_squares);
    const auto mx = reduce(g, isa, thread_counts::capped(2), Reduction::abs_max);
    CHECK(std::isnan(sq[9]));
    CHECK(std::isnan(mx[9]));
    CHECK(std::isinf(sq[8]));
    CHECK(std::isinf(mx[8]));
    CHECK(std::isfinite(sq[7]));
  }
}
