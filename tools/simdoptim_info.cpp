// Prints what this machine and build give simdoptim: the instruction sets, the selected one
// (SIMDOPTIM_ISA honoured) and the thread count (SIMDOPTIM_NUM_THREADS honoured).
#include <cstdio>
#include <exception>

#include "simdoptim/simdoptim.hpp"

int main() {
  try {
    std::printf("simdoptim %s\n", simdoptim::version());
    std::printf("supported instruction sets:");
    for (auto isa : simdoptim::supported_isas()) std::printf(" %s", simdoptim::isa_name(isa));
    simdoptim::SGD probe;
    std::printf("\nselected instruction set: %s\nthreads: %d\n", simdoptim::isa_name(probe.isa()),
                probe.num_threads());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "simdoptim-info: %s\n", e.what());
    return 2;
  }
}
