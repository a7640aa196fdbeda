// `isolate info`: what this build embeds.
#pragma once

#include <string>

namespace iso::cli {

std::string info_text();
std::string info_json();

}  // namespace iso::cli
