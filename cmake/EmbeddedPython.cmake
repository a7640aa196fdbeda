# Chooses the CPython that isolate embeds and describes how to link it statically.
#
# A statically linked libpython runs ~6-8% fewer instructions than
# the shared, position-independent one, so only builds that ship libpython3.x.a
# qualify. Choice: ISO_PYTHON if given, else the newest CPython >= 3.12 with a
# static library (pyenv first, then the system), else Debian's python3.11.
#
# Defines:
#   ISO_PYTHON_VERSION, ISO_PYTHON_EXECUTABLE, ISO_PYTHON_GIL_DISABLED
#   isolate_python  an INTERFACE target: headers, whole-archive libpython, and
#                   the link options an executable that embeds it needs.

set(ISO_PYTHON "" CACHE FILEPATH "python3.x whose static libpython isolate embeds (default: newest found)")

# Runs the probe under INTERPRETER and sets <prefix>_<key> for each fact.
function(iso_probe_python interpreter prefix)
  execute_process(
    COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} "${interpreter}" -I "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/probe_python.py"
    OUTPUT_VARIABLE out RESULT_VARIABLE rc ERROR_QUIET)
  set(${prefix}_ok FALSE PARENT_SCOPE)
  if(NOT rc EQUAL 0)
    return()
  endif()
  string(REPLACE "\n" ";" lines "${out}")
  foreach(line IN LISTS lines)
    if(line MATCHES "^([a-z_]+)=(.*)$")
      set(${prefix}_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}" PARENT_SCOPE)
    endif()
  endforeach()
  set(${prefix}_ok TRUE PARENT_SCOPE)
endfunction()

function(iso_find_default_python out_var)
  set(pyenv_root "$ENV{PYENV_ROOT}")
  if(NOT pyenv_root)
    set(pyenv_root "$ENV{HOME}/.pyenv")
  endif()
  file(GLOB candidates
    "${pyenv_root}/versions/3.*/bin/python3.[0-9]*"
    "/usr/local/bin/python3.[0-9]*"
    "/usr/bin/python3.[0-9]*")
  list(FILTER candidates INCLUDE REGEX "python3\\.[0-9]+t?$")
  set(best "")
  set(best_version "0")
  foreach(candidate IN LISTS candidates)
    iso_probe_python("${candidate}" probe)
    if(NOT probe_ok OR NOT probe_static_library OR probe_version VERSION_LESS 3.12)
      continue()
    endif()
    if(probe_version VERSION_GREATER best_version)
      set(best "${candidate}")
      set(best_version "${probe_version}")
    endif()
  endforeach()
  if(NOT best AND EXISTS /usr/bin/python3.11)
    set(best /usr/bin/python3.11)
  endif()
  set(${out_var} "${best}" PARENT_SCOPE)
endfunction()

# A cross build embeds the sysroot's CPython (cmake/aarch64-linux-gnu.cmake),
# run under the emulator to describe itself.
function(iso_find_sysroot_python out_var)
  file(GLOB candidates "${ISO_SYSROOT}/usr/bin/python3.[0-9]*")
  list(FILTER candidates INCLUDE REGEX "python3\\.[0-9]+$")
  list(SORT candidates COMPARE NATURAL ORDER DESCENDING)
  list(POP_FRONT candidates best)
  set(${out_var} "${best}" PARENT_SCOPE)
endfunction()

if(NOT ISO_PYTHON AND CMAKE_CROSSCOMPILING)
  iso_find_sysroot_python(found)
  if(NOT found)
    message(FATAL_ERROR "isolate: no python3.x in ${ISO_SYSROOT}/usr/bin: run scripts/aarch64-sysroot.sh")
  endif()
  set(ISO_PYTHON "${found}" CACHE FILEPATH "python3.x whose static libpython isolate embeds (default: newest found)" FORCE)
elseif(NOT ISO_PYTHON)
  iso_find_default_python(found)
  if(NOT found)
    message(FATAL_ERROR "isolate: no CPython with a static libpython found; "
                        "install python3.11-dev or pass -DISO_PYTHON=/path/to/python3.x")
  endif()
  set(ISO_PYTHON "${found}" CACHE FILEPATH "python3.x whose static libpython isolate embeds (default: newest found)" FORCE)
endif()

iso_probe_python("${ISO_PYTHON}" ISO_PY)
if(NOT ISO_PY_ok)
  message(FATAL_ERROR "isolate: ${ISO_PYTHON} does not run; pass -DISO_PYTHON=/path/to/python3.x")
endif()
if(ISO_PY_version VERSION_LESS 3.11)
  message(FATAL_ERROR "isolate: ${ISO_PYTHON} is ${ISO_PY_version}; isolate needs CPython >= 3.11")
endif()
if(NOT ISO_PY_static_library)
  message(FATAL_ERROR "isolate: ${ISO_PYTHON} ships no static libpython3.x.a "
                      "(isolate links it statically: docs/ARCHITECTURE.md, Build)")
endif()

# Under the emulator the sysroot's CPython sees its build-time paths (qemu's
# -L looks them up in the sysroot first): the linker needs the real ones.
if(CMAKE_CROSSCOMPILING AND NOT EXISTS "${ISO_PY_static_library}")
  set(ISO_PY_static_library "${ISO_SYSROOT}${ISO_PY_static_library}")
endif()

string(REPLACE "," ";" ISO_PY_link_libraries "${ISO_PY_link_libraries}")
# ... and libpython's own dependencies (zlib, expat) from the sysroot, by
# path; the C library's (dl, m, util) stay the toolchain's.
if(CMAKE_CROSSCOMPILING)
  set(libs "")
  foreach(lib IN LISTS ISO_PY_link_libraries)
    if(NOT lib MATCHES "^(c|dl|m|pthread|rt|util)$")
      find_library(ISO_PY_LIB_${lib} ${lib} REQUIRED)
      set(lib "${ISO_PY_LIB_${lib}}")
    endif()
    list(APPEND libs "${lib}")
  endforeach()
  set(ISO_PY_link_libraries "${libs}")
endif()
set(ISO_PYTHON_VERSION "${ISO_PY_version}")
set(ISO_PYTHON_EXECUTABLE "${ISO_PY_executable}")
set(ISO_PYTHON_GIL_DISABLED "${ISO_PY_gil_disabled}")
message(STATUS "isolate: embedding CPython ${ISO_PYTHON_VERSION} (${ISO_PYTHON_EXECUTABLE}), "
               "static ${ISO_PY_static_library}")

add_library(isolate_python INTERFACE)
# A CPython built inside this tree (make python: build/cpython/) is for this
# build only: its headers are not exported into the installed package.
cmake_path(IS_PREFIX PROJECT_SOURCE_DIR "${ISO_PY_include}" NORMALIZE iso_python_in_tree)
if(iso_python_in_tree)
  target_include_directories(isolate_python SYSTEM INTERFACE "$<BUILD_INTERFACE:${ISO_PY_include}>")
else()
  target_include_directories(isolate_python SYSTEM INTERFACE "${ISO_PY_include}")
endif()
# Whole archive: C extension modules call API functions nothing in isolate
# references, so the linker must keep all of libpython. Export only the C API
# (Py*, _Py*, PY*, the same set libpython3.x.so exports): that is all extension
# modules resolve against the executable,
# and it keeps our own C++ runtime out of their symbol lookups.
target_link_libraries(isolate_python INTERFACE
  "$<LINK_LIBRARY:WHOLE_ARCHIVE,${ISO_PY_static_library}>" ${ISO_PY_link_libraries} Threads::Threads util)
target_link_options(isolate_python INTERFACE
  "LINKER:--export-dynamic-symbol=Py*" "LINKER:--export-dynamic-symbol=_Py*"
  "LINKER:--export-dynamic-symbol=PY*"
  # Debian's libpython3.x.a is not position-independent; a non-PIE executable
  # also lets the linker turn libpython's GOT loads into direct addresses.
  -no-pie)
# A libpython built --with-lto holds GCC's intermediate code beside the
# machine code (fat objects): a link would run LTO over all of CPython for
# each executable (minutes each). Only a target with ISO_LINK_LTO set (the
# core) gets it; every other one, and an installed package's consumers, link
# the machine code.
if(ISO_PY_lto)
  target_link_options(isolate_python INTERFACE
    "$<IF:$<BOOL:$<TARGET_PROPERTY:ISO_LINK_LTO>>,-flto=auto,-fno-lto>")
endif()

# iso_marshal_code(SOURCE FILENAME HEADER NAMESPACE NAME TARGET): generated/HEADER
# holds SOURCE compiled by the embedded CPython and marshalled
# (cmake/marshal_code.py), rebuilt when SOURCE changes, before TARGET builds.
function(iso_marshal_code source filename header namespace name target)
  set(out "${PROJECT_BINARY_DIR}/generated/${header}")
  add_custom_command(
    OUTPUT "${out}"
    COMMAND ${CMAKE_CROSSCOMPILING_EMULATOR} "${ISO_PYTHON_EXECUTABLE}" -I "${PROJECT_SOURCE_DIR}/cmake/marshal_code.py" "${source}" "${filename}"
            "${out}" "${namespace}" "${name}"
    DEPENDS "${source}" "${PROJECT_SOURCE_DIR}/cmake/marshal_code.py"
    COMMENT "Marshalling ${filename}" VERBATIM)
  string(MAKE_C_IDENTIFIER "generate_${header}" generator)
  add_custom_target(${generator} DEPENDS "${out}")
  add_dependencies(${target} ${generator})
endfunction()
