#pragma once
// Access to tests/optim/optim_reference.safetensors (made by tests/optim/make_optim_reference.py):
// torch.optim.SGD trajectories and torch lr scheduler values. Skips the test when it is missing.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include "../skip.h"
#include "io/safetensors.h"

namespace cnn::optim_test {

inline const SafetensorsFile& reference() {
  static SafetensorsFile f = [] {
    const std::string path = std::string(CNN_SOURCE_DIR) + "/tests/optim/optim_reference.safetensors";
    if (!std::filesystem::exists(path))
      skip_test(path + " is missing: run /usr/bin/python3 tests/optim/make_optim_reference.py");
    return read_safetensors(path);
  }();
  return f;
}

inline const Tensor& ref_tensor(const std::string& name) {
  const auto& t = reference().tensors;
  auto it = t.find(name);
  if (it == t.end()) FAIL("reference tensor '" << name << "' missing: regenerate optim_reference.safetensors");
  return it->second;
}

inline std::string ref_meta(const std::string& key) {
  const auto& m = reference().metadata;
  auto it = m.find(key);
  if (it == m.end()) FAIL("reference metadata '" << key << "' missing: regenerate optim_reference.safetensors");
  return it->second;
}

// "a=1 b=0.5" -> {a: "1", b: "0.5"}
inline std::map<std::string, std::string> parse_kv(const std::string& s) {
  std::map<std::string, std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (ss >> item) {
    auto eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

// |got - want| <= rel * max(|want|) over n values (a relative tolerance on the tensor's scale).
inline void compare_values(const std::string& what, const float* got, const float* want, int64_t n,
                           double rel = 1e-6) {
  double scale = 0, worst = 0;
  int64_t worst_i = 0;
  for (int64_t i = 0; i < n; ++i) scale = std::max(scale, std::fabs(double(want[i])));
  for (int64_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(got[i]) - double(want[i]));
    if (!(d <= worst)) worst = d, worst_i = i;  // NaN counts as worst
  }
  INFO(what << ": worst |got - want| = " << worst << " at " << worst_i << " (got " << got[worst_i] << ", want "
            << want[worst_i] << "), allowed " << rel * scale);
  CHECK(worst <= rel * scale);
}

}  // namespace cnn::optim_test
