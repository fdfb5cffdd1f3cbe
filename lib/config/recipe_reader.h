#pragma once
// Typed reads of recipe fields with errors that name file:line:col and the dotted field:
// "r.yaml:2:17: train.epochs: expected an integer >= 0, got 'ten'". Used by the recipe field
// table (recipe_field.h) and the custom readers of its lines.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

namespace cnn::cfg {

class RecipeReader {
 public:
  explicit RecipeReader(const std::string& file) : file_(file) {}

  // The mapping at parent[key] (an empty mapping when absent or null); its keys must be in `keys`.
  YAML::Node section(const YAML::Node& parent, const std::string& key, const std::string& path,
                     const std::vector<std::string>& keys) const;

  // Throws "<loc>: <path>: expected <expected>, got <shown(n)>".
  [[noreturn]] void fail(const YAML::Node& n, const std::string& path, const std::string& expected) const;

  // Each getter returns `def` when sec[key] is absent (get_string: also when null).
  int64_t get_int(const YAML::Node& sec, const std::string& key, const std::string& path, int64_t def,
                  int64_t min) const;
  uint64_t get_uint(const YAML::Node& sec, const std::string& key, const std::string& path, uint64_t def) const;
  double get_number(const YAML::Node& sec, const std::string& key, const std::string& path, double def,
                    const std::function<bool(double)>& ok, const std::string& expected) const;
  bool get_bool(const YAML::Node& sec, const std::string& key, const std::string& path, bool def) const;
  std::string get_string(const YAML::Node& sec, const std::string& key, const std::string& path,
                         const std::string& def) const;

  static bool parse_double(const std::string& s, double& v);  // finite numbers only; a leading '+' is allowed
  static bool parse_int(const std::string& s, int64_t& v);
  static bool parse_uint(const std::string& s, uint64_t& v);
  // Numbers unquoted, other scalars quoted: "got -1", "got 'ten'".
  static std::string shown(const YAML::Node& n);

  const std::string& file() const { return file_; }

 private:
  const std::string& file_;
};

}  // namespace cnn::cfg
