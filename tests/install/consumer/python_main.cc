// Prints the embedded Python's version, then hands the rest of the command line
// to it: the smallest program that embeds isolate.
#include <cstdio>

#include "isolate/python.h"

int main(int argc, char** argv) {
  std::printf("embeds %.*s\n", static_cast<int>(iso::python::build_info().version.size()),
              iso::python::build_info().version.data());
  std::fflush(stdout);
  return iso::python::run_main(argc - 1, argv + 1);
}
