# Cross build for aarch64 Linux (glibc) with Debian's cross toolchain
# (crossbuild-essential-arm64) against Debian's arm64 CPython, unpacked by
# scripts/aarch64-sysroot.sh into ISO_SYSROOT. `make cross-aarch64` passes
# both; by hand:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
#         -DISO_SYSROOT=$PWD/build/aarch64/sysroot
#
# The compiler keeps its own C library (/usr/aarch64-linux-gnu, the same
# glibc 2.36 as the sysroot's); the sysroot provides everything else: libpython,
# the libraries found with find_package, and the root qemu runs programs in.
# Tests run under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR); programs that
# exec other aarch64 programs (the front execs the core) need the kernel's
# binfmt_misc entry for qemu-aarch64 (Debian's qemu-user-binfmt), with
# QEMU_LD_PREFIX naming the sysroot, which the tests set.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(ISO_SYSROOT "" CACHE PATH "arm64 root from scripts/aarch64-sysroot.sh")
if(NOT ISO_SYSROOT OR NOT EXISTS "${ISO_SYSROOT}/usr/bin")
  message(FATAL_ERROR "isolate: -DISO_SYSROOT=... must name the folder scripts/aarch64-sysroot.sh printed")
endif()
# try_compile projects see the toolchain file again: hand them the variable.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ISO_SYSROOT)

find_program(ISO_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR "${ISO_QEMU_AARCH64};-L;${ISO_SYSROOT}")

# Libraries and headers from the sysroot only (the host's are x86-64);
# programs (python3 for build steps, the emulator) from the host.
set(CMAKE_FIND_ROOT_PATH "${ISO_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Debian's Python.h includes <aarch64-linux-gnu/python3.x/pyconfig.h>: the
# sysroot's include folder, searched after the compiler's own (which hold the
# C library's headers).
set(CMAKE_C_FLAGS_INIT "-idirafter ${ISO_SYSROOT}/usr/include")
set(CMAKE_CXX_FLAGS_INIT "-idirafter ${ISO_SYSROOT}/usr/include")
# What the sysroot's shared libraries need in turn, from its library folders
# (not on the -L path: the sysroot's libc.so script names absolute paths that
# mean the toolchain's C library only to the toolchain).
set(CMAKE_EXE_LINKER_FLAGS_INIT
  "-Wl,-rpath-link,${ISO_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${ISO_SYSROOT}/lib/aarch64-linux-gnu")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")
