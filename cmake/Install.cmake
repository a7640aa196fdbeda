# `cmake --install build --prefix P` installs the isolate binary, libisolate.a,
# the public headers and a CMake package, so that
#   find_package(isolate CONFIG) + target_link_libraries(x isolate::isolate)
# works. The embedded Python is linked from its own installation (an absolute
# path recorded in the package), exactly as isolate itself links it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS isolate isolate_python isoalloc_static EXPORT isolateTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/isolate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT isolateTargets NAMESPACE isolate:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/isolate)

configure_package_config_file(cmake/isolateConfig.cmake.in
  "${PROJECT_BINARY_DIR}/isolateConfig.cmake"
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/isolate)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/isolateConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/isolateConfig.cmake" "${PROJECT_BINARY_DIR}/isolateConfigVersion.cmake"
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/isolate)
