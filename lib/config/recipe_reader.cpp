#include "config/recipe_reader.h"

#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "config/yaml_util.h"

namespace cnn::cfg {

namespace {

template <class T>
bool parse_integer(const std::string& s, T& v) {
  std::string t = !s.empty() && s[0] == '+' ? s.substr(1) : s;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size();
}

}  // namespace

YAML::Node RecipeReader::section(const YAML::Node& parent, const std::string& key, const std::string& path,
                                 const std::vector<std::string>& keys) const {
  const YAML::Node n = parent.IsMap() ? parent[key] : YAML::Node();
  if (!n.IsDefined() || n.IsNull()) return YAML::Node(YAML::NodeType::Map);
  if (!n.IsMap()) throw ConfigError(loc_of(n, file_), path, "expected a mapping, got " + describe(n));
  check_keys(n, keys, file_, path);
  return n;
}

void RecipeReader::fail(const YAML::Node& n, const std::string& path, const std::string& expected) const {
  throw ConfigError(loc_of(n, file_), path, fmt::format("expected {}, got {}", expected, shown(n)));
}

int64_t RecipeReader::get_int(const YAML::Node& sec, const std::string& key, const std::string& path, int64_t def,
                              int64_t min) const {
  YAML::Node n = sec[key];
  if (!n.IsDefined()) return def;
  int64_t v = 0;
  if (!n.IsScalar() || !parse_int(n.Scalar(), v) || v < min) fail(n, path, fmt::format("an integer >= {}", min));
  return v;
}

uint64_t RecipeReader::get_uint(const YAML::Node& sec, const std::string& key, const std::string& path,
                                uint64_t def) const {
  YAML::Node n = sec[key];
  if (!n.IsDefined()) return def;
  uint64_t v = 0;
  if (!n.IsScalar() || !parse_uint(n.Scalar(), v)) fail(n, path, "an integer >= 0");
  return v;
}

double RecipeReader::get_number(const YAML::Node& sec, const std::string& key, const std::string& path, double def,
                                const std::function<bool(double)>& ok, const std::string& expected) const {
  YAML::Node n = sec[key];
  if (!n.IsDefined()) return def;
  double v = 0;
  if (!n.IsScalar() || !parse_double(n.Scalar(), v) || !ok(v)) fail(n, path, expected);
  return v;
}

bool RecipeReader::get_bool(const YAML::Node& sec, const std::string& key, const std::string& path, bool def) const {
  YAML::Node n = sec[key];
  if (!n.IsDefined()) return def;
  if (n.IsScalar()) {
    std::string s = n.Scalar();
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true" || s == "yes" || s == "on") return true;
    if (s == "false" || s == "no" || s == "off") return false;
  }
  fail(n, path, "true or false");
}

std::string RecipeReader::get_string(const YAML::Node& sec, const std::string& key, const std::string& path,
                                     const std::string& def) const {
  YAML::Node n = sec[key];
  if (!n.IsDefined() || n.IsNull()) return def;
  if (!n.IsScalar() || n.Scalar().empty()) fail(n, path, "a non-empty string");
  return n.Scalar();
}

bool RecipeReader::parse_double(const std::string& s, double& v) { return parse_integer(s, v) && std::isfinite(v); }
bool RecipeReader::parse_int(const std::string& s, int64_t& v) { return parse_integer(s, v); }
bool RecipeReader::parse_uint(const std::string& s, uint64_t& v) { return parse_integer(s, v); }

std::string RecipeReader::shown(const YAML::Node& n) {
  double d = 0;
  if (n.IsScalar() && parse_double(n.Scalar(), d)) return n.Scalar();
  return describe(n);
}

}  // namespace cnn::cfg
