# Sanitizer and fuzzing builds. Both apply to every target of the build, so use a
# build folder of their own (tools/run_sanitizers.sh, tools/run_fuzz.sh).
#   -DSIMDOPTIM_SANITIZE=address,undefined   ASan + UBSan (any UB aborts the test)
#   -DSIMDOPTIM_SANITIZE=thread              TSan
#   -DSIMDOPTIM_FUZZ=ON                      libFuzzer targets (clang only), with coverage
#                                            instrumentation of the whole library
set(SIMDOPTIM_SANITIZE "" CACHE STRING "Sanitizers: address,undefined or thread (empty: none)")
option(SIMDOPTIM_FUZZ "Build the libFuzzer targets (needs clang and libclang-rt-14-dev)" OFF)

if(SIMDOPTIM_SANITIZE)
  add_compile_options(-fsanitize=${SIMDOPTIM_SANITIZE} -fno-omit-frame-pointer -g)
  add_link_options(-fsanitize=${SIMDOPTIM_SANITIZE})
  if(SIMDOPTIM_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()
if(SIMDOPTIM_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SIMDOPTIM_FUZZ needs clang (configure with CXX=clang++)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
