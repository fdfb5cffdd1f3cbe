#pragma once
// Small helpers shared by the model and recipe loaders: source locations of YAML nodes, strict
// key checks with "did you mean", reading and parsing files with errors that name file:line:col.
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "core/error.h"

namespace cnn::cfg {

// file:line:col (1-based) of a node. Nodes created by --set carry no mark: their location is "--set".
SourceLoc loc_of(const YAML::Node& node, const std::string& file);

// The whole file as text. Throws ConfigError "cannot open <what> '<path>': <reason>".
std::string read_text_file(const std::string& path, const std::string& what);

// Parses one YAML document; syntax errors become ConfigError at file:line:col.
YAML::Node parse_yaml(const std::string& text, const std::string& file);

// The key node of `key` in a mapping (for its location), or an undefined node.
YAML::Node key_node(const YAML::Node& map, const std::string& key);

// Throws ConfigError for a non-scalar or duplicate key, or (when `allowed` is non-null) for a key
// not in `allowed`: "<path>: unknown key 'x' (did you mean 'y'?); expected one of: a, b".
void check_keys(const YAML::Node& map, const std::vector<std::string>* allowed, const std::string& file,
                const std::string& path, const std::string& what = "key");
inline void check_keys(const YAML::Node& map, const std::vector<std::string>& allowed,
                       const std::string& file, const std::string& path, const std::string& what = "key") {
  check_keys(map, &allowed, file, path, what);
}

// " (did you mean 'x'?)" or "".
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
std::string join(const std::vector<std::string>& items, const std::string& sep = ", ");
// "a.b" from scope "a" and name "b"; just "b" when the scope is empty.
std::string join_path(const std::string& scope, const std::string& name);

// How a node reads in an error message: 'abc', [1, 2], a mapping, nothing.
std::string describe(const YAML::Node& node);

// A deep copy built node by node: it has no marks, so its location reads "--set".
YAML::Node detached_copy(const YAML::Node& node);

// Shortest text that reads back to the same double, always with a '.' or exponent ("2.0").
std::string format_double(double v);

}  // namespace cnn::cfg
