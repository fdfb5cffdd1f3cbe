#pragma once
// `--set dotted.key=value` overrides, applied to a YAML document before it is parsed. The value
// is parsed as YAML (`[3,32,32]`, `0.1`, `true`, `sgd`). Overridden nodes carry no source mark,
// so later errors about them are located at "--set".
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace cnn::cfg {

struct Override {
  std::string text;               // as given: "layers.3.conv.out=32"
  std::string key;                // "layers.3.conv.out"
  std::vector<std::string> path;  // {"layers", "3", "conv", "out"}
  YAML::Node value;               // detached: its location reads "--set"
};

// Throws ConfigError at "--set" for a missing '=', an empty key segment or a bad YAML value.
Override parse_override(const std::string& text);
std::vector<Override> parse_overrides(const std::vector<std::string>& texts);

// May `key`, absent from the mapping `parent` reached by `parent_path`, be created?
using AllowNewKey = std::function<bool(const std::vector<std::string>& parent_path, const std::string& key)>;

// Sets the node at o.path[first..] in `doc`. Every step must exist (integer segments index
// sequences), except a last key that `allow_new` accepts. `shown_prefix` is prepended to the key
// in messages (e.g. "model."). Errors: "--set: unknown key 'x.y' (did you mean 'x.z'?); ...".
void apply_override_in_document(YAML::Node doc, const Override& o, size_t first, const std::string& shown_prefix,
                                const AllowNewKey& allow_new);

// The keys a document may have, for documents with defaults (the recipe): a path is checked
// against the schema, not the document, and missing mappings are created. A field with
// `open = true` (e.g. a list of transforms) may be overridden below its own level only where the
// document already has the path.
struct Schema {
  std::map<std::string, Schema> fields;  // empty: a leaf
  bool open = false;
};

// Applies o at o.path in `doc` (a mapping) along `schema`. `file` locates errors about the
// document (a section that is not a mapping).
void apply_override_with_schema(YAML::Node doc, const Override& o, const Schema& schema, const std::string& file);

}  // namespace cnn::cfg
