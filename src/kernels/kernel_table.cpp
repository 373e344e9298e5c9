#include "kernels/kernel_table.hpp"

#include <stdexcept>
#include <string>

namespace simdoptim::detail {

const KernelTable& kernel_table(Isa isa) {
  if (!isa_supported(isa))
    throw std::invalid_argument(std::string("instruction set '") + isa_name(isa) +
                                "' is not supported by this CPU or build");
  switch (isa) {
#if defined(SIMDOPTIM_HAS_X86)
    case Isa::sse2:
      return sse2::table;
    case Isa::avx2:
      return avx2::table;
    case Isa::avx512:
      return avx512::table;
#endif
#if defined(SIMDOPTIM_HAS_NEON)
    case Isa::neon:
      return neon::table;
#endif
    default:
      return scalar::table;
  }
}

}  // namespace simdoptim::detail
