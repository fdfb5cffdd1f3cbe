#pragma once
// Helpers for the config tests: run a callable and return the ConfigError message it throws.
#include <string>

#include <catch2/catch.hpp>

#include "core/error.h"

namespace cnn::testing {

template <class F>
std::string config_error(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "<no ConfigError thrown>";
}

inline std::string fixture(const std::string& name) {
  return std::string(CNN_SOURCE_DIR) + "/tests/config/fixtures/" + name;
}

}  // namespace cnn::testing
