#include <catch2/catch.hpp>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "simdoptim/simdoptim.hpp"

using namespace simdoptim;

TEST_CASE("instruction set names round-trip and unknown names are rejected", "[isa]") {
  for (Isa isa : {Isa::scalar, Isa::sse2, Isa::avx2, Isa::avx512, Isa::neon})
    CHECK(parse_isa(isa_name(isa)) == isa);
  CHECK_THROWS_WITH(parse_isa("avx9"), Catch::Contains("avx9") && Catch::Contains("expected"));
}

TEST_CASE("scalar is always supported and best_isa is the last supported one", "[isa]") {
  const auto isas = supported_isas();
  REQUIRE(!isas.empty());
  CHECK(isas.front() == Isa::scalar);
  CHECK(isas.back() == best_isa());
  for (Isa isa : isas) CHECK(isa_supported(isa));
}

TEST_CASE("SIMDOPTIM_ISA forces a supported set and refuses an unsupported one", "[isa]") {
  for (Isa isa : supported_isas()) {
    setenv("SIMDOPTIM_ISA", isa_name(isa), 1);
    CHECK(default_isa() == isa);
    SGD opt;
    CHECK(opt.isa() == isa);
  }
  for (Isa isa : {Isa::scalar, Isa::sse2, Isa::avx2, Isa::avx512, Isa::neon}) {
    if (isa_supported(isa)) continue;
    setenv("SIMDOPTIM_ISA", isa_name(isa), 1);
    CHECK_THROWS_WITH(default_isa(), Catch::Contains("not supported"));
    CHECK_THROWS_AS(SGD(), std::invalid_argument);
    CHECK_THROWS_AS(SGD(SGDOptions{}, RuntimeOptions{isa, 1}), std::invalid_argument);
  }
  setenv("SIMDOPTIM_ISA", "bogus", 1);
  CHECK_THROWS_WITH(default_isa(), Catch::Contains("bogus"));
  unsetenv("SIMDOPTIM_ISA");
  CHECK(default_isa() == best_isa());
}

TEST_CASE("the AVX-512 BF16 conversions are on exactly where the CPU has them", "[isa]") {
  const char* env = std::getenv("SIMDOPTIM_AVX512_BF16");
  if (env != nullptr && std::string(env) == "0") {
    CHECK_FALSE(avx512_bf16_conversions());
    return;
  }
#if defined(__x86_64__)
  const bool cpu = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512bf16");
#else
  const bool cpu = false;
#endif
  CHECK(avx512_bf16_conversions() == cpu);
}

TEST_CASE("thread count comes from the API, then SIMDOPTIM_NUM_THREADS", "[isa]") {
  CHECK(SGD(SGDOptions{}, RuntimeOptions{std::nullopt, 3}).num_threads() == 3);
  setenv("SIMDOPTIM_NUM_THREADS", "1", 1);
  CHECK(SGD().num_threads() == 1);
  setenv("SIMDOPTIM_NUM_THREADS", "two", 1);
  CHECK_THROWS_WITH(SGD(), Catch::Contains("SIMDOPTIM_NUM_THREADS"));
  unsetenv("SIMDOPTIM_NUM_THREADS");
  CHECK(SGD().num_threads() >= 1);
  CHECK_THROWS_WITH(SGD(SGDOptions{}, RuntimeOptions{std::nullopt, -1}),
                    Catch::Contains("num_threads"));
}
