#pragma once
// Building layers in tests without YAML:
//   auto conv = build_layer("conv", {{"out", "6"}, {"k", "3"}, {"stride", "[1, 2]"}});
// A value written "[a, b]" (or "a,b") becomes a list argument; anything else a scalar.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "layers/layer_args.h"
#include "layers/layer.h"
#include "layers/registry.h"

namespace cnn::test {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

inline ArgValue arg_value(const std::string& text) {
  std::string s = text;
  bool list = false;
  if (!s.empty() && s.front() == '[') {
    list = true;
    s = s.substr(1, s.size() >= 2 && s.back() == ']' ? s.size() - 2 : s.size() - 1);
  } else if (s.find(',') != std::string::npos) {
    list = true;
  }
  auto trim = [](std::string x) {
    size_t b = x.find_first_not_of(" \t"), e = x.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : x.substr(b, e - b + 1);
  };
  if (!list) return ArgValue{{trim(s)}, false, {}};
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = trim(s.substr(start, comma - start));
    if (!item.empty()) items.push_back(item);
    start = comma + 1;
  }
  return ArgValue{items, true, {}};
}

inline LayerArgs layer_args(const std::string& type, const KeyValues& kv, const std::string& path = "") {
  LayerArgs args(path.empty() ? "test_" + type : path, type, SourceLoc{});
  for (const auto& [k, v] : kv) args.set(k, arg_value(v));
  return args;
}

inline std::unique_ptr<Layer> build_layer(const std::string& type, const KeyValues& kv = {},
                                          const std::string& path = "") {
  return make_layer(layer_args(type, kv, path));
}

// "k=3 stride=1,2 bias=false" -> key/value pairs (used by the torch-reference metadata).
inline KeyValues parse_key_values(const std::string& text) {
  KeyValues kv;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t e = text.find(' ', i);
    if (e == std::string::npos) e = text.size();
    std::string tok = text.substr(i, e - i);
    i = e;
    if (tok.empty()) continue;
    size_t eq = tok.find('=');
    if (eq == std::string::npos) kv.emplace_back(tok, "");
    else kv.emplace_back(tok.substr(0, eq), tok.substr(eq + 1));
  }
  return kv;
}

}  // namespace cnn::test
