#pragma once
// LayerArgs: the arguments of one layer as written in the config, after block-argument
// substitution, with their source locations. Layers read their parameter structs from it
// (they never see YAML). Every getter checks the type and throws ConfigError naming
// file:line:col, the layer path and what was expected. finish() rejects keys nobody read.
// config/ fills it (model_expand.cpp) and layers/ reads it: it lives here so that config/
// depends on layers/ and never the other way round (tests/layers/test_layering.cpp).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace cnn {

struct ArgValue {
  std::vector<std::string> items;  // scalar: one item; list: its items (scalars only)
  bool is_list = false;
  SourceLoc loc;
};

class LayerArgs {
 public:
  LayerArgs() = default;
  LayerArgs(std::string layer_path, std::string layer_type, SourceLoc loc)
      : path_(std::move(layer_path)), type_(std::move(layer_type)), loc_(std::move(loc)) {}

  void set(const std::string& key, ArgValue v) { values_[key] = std::move(v); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }

  // Each getter without a default throws when the key is missing.
  int64_t get_int(const std::string& key) const;
  int64_t get_int(const std::string& key, int64_t def) const;
  double get_float(const std::string& key) const;
  double get_float(const std::string& key, double def) const;
  bool get_bool(const std::string& key, bool def) const;  // true/false/yes/no/on/off
  std::string get_string(const std::string& key, const std::string& def) const;
  // One value or a list of n: `k: 3` -> {3, 3}; `k: [1, 7]` -> {1, 7}. A list of another
  // length is an error. n = 0: a non-empty list of any length (one value -> a list of one).
  std::vector<int64_t> get_ints(const std::string& key, size_t n, const std::vector<int64_t>& def) const;
  std::vector<double> get_floats(const std::string& key, const std::vector<double>& def) const;

  // Throws ConfigError for the first key that no getter asked for, with "did you mean" and the
  // list of keys the getters asked for: "unknown argument 'kernel' for layer type 'conv' (did you
  // mean 'k'?); accepted: k, out, pad, stride".
  void finish() const;

  // For errors raised by the layer itself after parsing (e.g. shape mismatch): "<loc>: <path>:
  // <message>"; with a key, located at that argument's value: "<loc>: <path>: field 'k': <message>".
  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void fail(const std::string& key, const std::string& message) const;

  const std::string& path() const { return path_; }
  const std::string& type() const { return type_; }
  const SourceLoc& loc() const { return loc_; }
  const std::map<std::string, ArgValue>& values() const { return values_; }

 private:
  const ArgValue* find(const std::string& key) const;
  std::string path_, type_;
  SourceLoc loc_;
  std::map<std::string, ArgValue> values_;
  mutable std::vector<std::string> used_;
};

}  // namespace cnn
