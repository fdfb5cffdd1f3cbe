#pragma once
// A tensor's float bit patterns as hex words separated by spaces: bit-exact comparisons with
// reference values printed the same way by the committed python3-torch scripts.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "core/tensor.h"

namespace cnn::test {

inline std::string hex_bits(const Tensor& t) {
  std::string out;
  for (int64_t j = 0; j < t.numel(); ++j) {
    uint32_t u;
    const float v = t[j];
    std::memcpy(&u, &v, 4);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%s%08x", out.empty() ? "" : " ", u);
    out += buf;
  }
  return out;
}

}  // namespace cnn::test
