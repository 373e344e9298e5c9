// Prints what this machine and build give simdoptim: the instruction sets, the selected one
// (SIMDOPTIM_ISA honoured) and the thread count (SIMDOPTIM_NUM_THREADS honoured).
#include <cstdio>
#include <exception>
#include <string>

#include "simdoptim/simdoptim.hpp"

int main() {
  try {
    // Everything that can fail (SIMDOPTIM_ISA, SIMDOPTIM_NUM_THREADS) before the first byte
    // goes out, so that an error leaves no partial line on stdout.
    simdoptim::SGD probe;
    std::string isas;
    for (auto isa : simdoptim::supported_isas())
      isas += std::string(" ") + simdoptim::isa_name(isa);
    std::printf(
        "simdoptim %s\nsupported instruction sets:%s\nselected instruction set: %s\n"
        "threads: %d\nAVX-512 BF16 conversions: %s\n",
        simdoptim::version(), isas.c_str(), simdoptim::isa_name(probe.isa()), probe.num_threads(),
        simdoptim::avx512_bf16_conversions() ? "on" : "off");
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simdoptim-info: %s\n", e.what());
    return 2;
  }
}
