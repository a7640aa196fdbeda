// isolate/version.h — the version of this isolate release.
#pragma once

namespace iso {

inline constexpr const char* kVersion = "0.1.0";

}  // namespace iso
