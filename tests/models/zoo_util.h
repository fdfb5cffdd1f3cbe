#pragma once
// Helpers of the zoo tests: config paths, our state_dict (names and shapes) and a readable
// difference against a reference one.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include "graph/net.h"

namespace cnn::test {

inline std::string zoo_config_path(const std::string& name) {
  return std::string(CNN_SOURCE_DIR) + "/configs/models/" + name + ".yaml";
}

// Parameter and buffer names with their shapes, as a PyTorch state_dict has them.
inline std::map<std::string, Shape> our_state(const Net& net) {
  std::map<std::string, Shape> s;
  for (const auto& p : net.params()) CHECK(s.emplace(p.name, p.param->value.shape()).second);
  for (const auto& b : net.buffers()) CHECK(s.emplace(b.name, b.buffer->value.shape()).second);
  return s;
}

// Missing, mis-shaped and extra entries, at most 12 lines.
inline std::string describe_diff(const std::map<std::string, Shape>& ours, const std::map<std::string, Shape>& theirs) {
  std::string msg;
  int shown = 0;
  for (const auto& [k, v] : theirs) {
    auto it = ours.find(k);
    if (it == ours.end()) msg += "  missing: " + k + " " + shape_str(v) + "\n";
    else if (it->second != v) msg += "  shape: " + k + " ours " + shape_str(it->second) + ", theirs " + shape_str(v) + "\n";
    else continue;
    if (++shown == 12) return msg + "  ...\n";
  }
  for (const auto& [k, v] : ours)
    if (!theirs.count(k)) {
      msg += "  extra: " + k + " " + shape_str(v) + "\n";
      if (++shown == 12) return msg + "  ...\n";
    }
  return msg;
}

}  // namespace cnn::test
