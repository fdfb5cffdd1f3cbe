#pragma once
// The message of the RuntimeError that f throws, or "(no error)".
#include <functional>
#include <string>

#include "core/error.h"

namespace cnn::test {

inline std::string error_text(const std::function<void()>& f) {
  try {
    f();
  } catch (const RuntimeError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace cnn::test
