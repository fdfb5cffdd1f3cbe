#pragma once
// Helpers of the zoo tests: config paths, our state_dict (names and shapes) and a readable
// difference against a reference one.
#include <catch2/catch.hpp>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

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

// The net's state_dict names and shapes equal the reference entry's ({"state_dict": [[name,
// shape], ...], "source": ...}); on failure the message lists the differences.
inline void check_state_dict(const Net& net, const nlohmann::json& reference) {
  std::map<std::string, Shape> theirs;
  for (const auto& kv : reference.at("state_dict")) theirs[kv.at(0).get<std::string>()] = kv.at(1).get<Shape>();
  CHECK(theirs.size() == reference.at("state_dict").size());
  const auto ours = our_state(net);
  INFO("state_dict differences (ours vs " << reference.at("source").get<std::string>() << "):\n"
                                          << describe_diff(ours, theirs));
  CHECK(ours == theirs);
}

}  // namespace cnn::test
