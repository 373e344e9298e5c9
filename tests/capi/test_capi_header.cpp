// simdoptim.h compiled as C++ (the C test compiles it as C99): it must be valid C++ with the
// project's warnings, its declarations must have C linkage, and its types the expected layout.
#include <cstdio>
#include <cstring>
#include <type_traits>

#include "simdoptim/simdoptim.h"

static_assert(SIMDOPTIM_OK == 0, "success is zero, so `if (rc)` means failure");
static_assert(std::is_standard_layout_v<simdoptim_param_spec>);
static_assert(std::is_standard_layout_v<simdoptim_option>);
static_assert(std::is_standard_layout_v<simdoptim_runtime>);
static_assert(std::is_same_v<decltype(&simdoptim_optimizer_step),
                             simdoptim_status (*)(simdoptim_optimizer*)>);

// C linkage: the symbol is the plain name, which a C caller links against.
extern "C" simdoptim_status simdoptim_optimizer_step(simdoptim_optimizer*);

int main() {
  if (std::strcmp(simdoptim_version(), "") == 0) return 1;
  if (simdoptim_version_number() != SIMDOPTIM_VERSION_NUMBER) return 1;
  simdoptim_optimizer* opt = nullptr;
  const simdoptim_status rc = simdoptim_optimizer_step(opt);
  if (rc != SIMDOPTIM_ERROR_NULL_POINTER) return 1;
  std::printf("test_capi_header: %s (%s)\n", simdoptim_status_name(rc), simdoptim_last_error());
  return 0;
}
