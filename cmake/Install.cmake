# `cmake --install build --prefix P` installs the two executables, the
# libraries, the public headers and a CMake package whose components a C++
# user picks as with TBB or mimalloc:
#   find_package(isolate CONFIG REQUIRED COMPONENTS exec)   # isolate::exec: parallel_for alone
#   isolate::alloc, isolate::alloc_shared                   # isoalloc, static or shared
#   isolate::conc                                           # the SPSC ring and sharded LRU (header-only)
#   isolate::python                                         # CPython embedded, and the pool
#   isolate::gpu                                            # iso::hybrid_map (only where CUDA was found)
# Without COMPONENTS, all of them. Only isolate::python brings libpython
# (linked from the embedded Python's own installation, an absolute path
# recorded in the package, exactly as isolate itself links it) and -no-pie.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(iso_package_dir "${CMAKE_INSTALL_LIBDIR}/cmake/isolate")
set_target_properties(isolate_python PROPERTIES EXPORT_NAME libpython)

# One export set per component: a component's targets file names only its own.
function(iso_install_component component)
  install(TARGETS ${ARGN} EXPORT isolate_${component}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT isolate_${component} NAMESPACE isolate:: FILE isolate-${component}-targets.cmake
    DESTINATION ${iso_package_dir})
endfunction()
iso_install_component(exec isolate_exec)
iso_install_component(alloc isoalloc_static isoalloc)
iso_install_component(conc isolate_conc)
iso_install_component(python isolate isolate_python)
# isolate/gpu.h comes with its component: without the CUDA toolkit there is
# no isolate::gpu, and find_package(isolate COMPONENTS gpu) fails.
if(ISO_HAVE_CUDA)
  iso_install_component(gpu isolate_gpu isolate_gpu_host)
  install(DIRECTORY include/isolate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
else()
  install(DIRECTORY include/isolate DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} PATTERN gpu.h EXCLUDE)
endif()

configure_package_config_file(cmake/isolateConfig.cmake.in
  "${PROJECT_BINARY_DIR}/isolateConfig.cmake"
  INSTALL_DESTINATION ${iso_package_dir})
write_basic_package_version_file("${PROJECT_BINARY_DIR}/isolateConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/isolateConfig.cmake" "${PROJECT_BINARY_DIR}/isolateConfigVersion.cmake"
  DESTINATION ${iso_package_dir})
