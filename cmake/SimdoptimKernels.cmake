# simdoptim_add_kernel_isa(target NAME ns ARCH xsimd_arch FLAGS ...): compiles the one kernel
# source for one instruction set, in its own namespace, as an object library.
function(simdoptim_add_kernel_isa target)
  cmake_parse_arguments(K "" "NAME;ARCH" "FLAGS" ${ARGN})
  add_library(${target} OBJECT ${PROJECT_SOURCE_DIR}/src/kernels/isa_kernels.cpp)
  target_compile_definitions(${target} PRIVATE SIMDOPTIM_ISA_NS=${K_NAME}
                             SIMDOPTIM_XSIMD_ARCH=${K_ARCH})
  target_compile_options(${target} PRIVATE ${K_FLAGS} -ffp-contract=off)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src
                             ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${target} PRIVATE xsimd)
  simdoptim_warnings(${target})
  # GCC 12 reports a false positive inside avx512fintrin.h (_mm512_undefined_ps) once inlined.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()
