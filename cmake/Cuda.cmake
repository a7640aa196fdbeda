# CUDA, where the toolkit is found (issue 19): ISO_HAVE_CUDA, the CUDA
# language for the device tests, and CUDA::cudart_static. Never under the
# sanitizers (nvcc does not take their flags) nor when cross-compiling.
# CUDA 13 at /usr/local/cuda is looked for when nvcc is not on PATH.
option(ISO_CUDA "Build the CUDA device side where the toolkit is found" ON)
set(ISO_HAVE_CUDA OFF)
if(ISO_CUDA AND NOT ISO_SANITIZE AND NOT CMAKE_CROSSCOMPILING)
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc)
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 90)  # the H100 the device tool lends
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit)
    if(CUDAToolkit_FOUND)
      set(ISO_HAVE_CUDA ON)
      # CUDA targets would otherwise inherit CXX_STANDARD 20, for which CMake
      # 3.25 knows no nvcc flag; isolate/gpu.h (and exec.h) are C++17 enough.
      set(CMAKE_CUDA_STANDARD 17)
    endif()
  endif()
endif()
message(STATUS "isolate: CUDA device side: ${ISO_HAVE_CUDA}")
