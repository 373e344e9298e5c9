# simdoptim_warnings(target): the project's warning set, errors when SIMDOPTIM_WERROR is on.
add_library(simdoptim_warnings INTERFACE)
target_compile_options(simdoptim_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wconversion -Wno-sign-conversion $<$<BOOL:${SIMDOPTIM_WERROR}>:-Werror>)
function(simdoptim_warnings target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:simdoptim_warnings>)
endfunction()
