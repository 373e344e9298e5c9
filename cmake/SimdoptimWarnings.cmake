# simdoptim_warnings(target): the project's warning set, errors when SIMDOPTIM_WERROR is on.
add_library(simdoptim_warnings INTERFACE)
target_compile_options(simdoptim_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wconversion -Wno-sign-conversion $<$<BOOL:${SIMDOPTIM_WERROR}>:-Werror>)
# GCC 12 reports false -Wrestrict positives inside std::string concatenation at -O3 (GCC bug
# 105329); they fire in any code that builds names with operator+.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(simdoptim_warnings INTERFACE -Wno-restrict)
endif()
function(simdoptim_warnings target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:simdoptim_warnings>)
endfunction()
