# Installs the library, its headers and a package config so that find_package(simdoptim) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS simdoptim EXPORT simdoptimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/simdoptim DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${SIMDOPTIM_GENERATED_INCLUDE}/simdoptim/optimizers.hpp
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/simdoptim)
install(EXPORT simdoptimTargets NAMESPACE simdoptim::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/simdoptim)
configure_package_config_file(cmake/simdoptimConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/simdoptimConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/simdoptim)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/simdoptimConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/simdoptimConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/simdoptimConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/simdoptim)
