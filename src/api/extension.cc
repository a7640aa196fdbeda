// The extension module build/python/isolate.cpython-*.so, for the python3 of
// the same build: `PYTHONPATH=build/python python3 -c 'import isolate'`.
#include "module.h"

extern "C" PyMODINIT_FUNC PyInit_isolate() {
  return iso::api::init_module();
}
