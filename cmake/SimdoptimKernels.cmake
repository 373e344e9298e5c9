# simdoptim_add_kernel_isa(target NAME ns ARCH xsimd_arch FLAGS ... SOURCES ...): compiles the
# SIMD kernel sources for one instruction set, in its own namespace, as an object library.
function(simdoptim_add_kernel_isa target)
  cmake_parse_arguments(K "" "NAME;ARCH" "FLAGS;SOURCES" ${ARGN})
  add_library(${target} OBJECT ${K_SOURCES})
  target_compile_definitions(${target} PRIVATE SIMDOPTIM_ISA_NS=${K_NAME}
                             SIMDOPTIM_XSIMD_ARCH=${K_ARCH})
  target_compile_options(${target} PRIVATE ${K_FLAGS} -ffp-contract=off)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/src
                             ${PROJECT_SOURCE_DIR}/include)
  target_link_libraries(${target} PRIVATE xsimd)
  simdoptim_warnings(${target})
  # GCC 12 reports false positives inside avx512fintrin.h (_mm512_undefined_ps, and the
  # _mm512_undefined_epi32 of the integer shifts and narrowing) once inlined, as "may be" or,
  # depending on inlining, "is used uninitialized" (_mm512_sqrt_ps). The same sources compile
  # for the other instruction sets, and into the library (the scalar reference), with both on.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized -Wno-uninitialized)
  endif()
endfunction()
