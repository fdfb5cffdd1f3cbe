#include "config/yaml_util.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/depthguard.h>

namespace cnn::cfg {

SourceLoc loc_of(const YAML::Node& node, const std::string& file) {
  if (!node.IsDefined()) return SourceLoc{file, 0, 0};
  YAML::Mark m = node.Mark();
  if (m.line < 0) return SourceLoc{"--set", 0, 0};
  return SourceLoc{file, m.line + 1, m.column + 1};
}

constexpr size_t kMaxConfigBytes = size_t(16) << 20;

std::string read_text_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(fmt::format("cannot open {} '{}': Is a directory", what, path));
  errno = 0;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    int e = errno ? errno : ENOENT;
    throw ConfigError(fmt::format("cannot open {} '{}': {}", what, path, std::strerror(e)));
  }
  std::string text;
  char buf[65536];
  size_t n;
  // A config is text of a few KiB; /dev/zero or a stray dataset file given as one is refused
  // before it fills the memory.
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    text.append(buf, n);
    if (text.size() > kMaxConfigBytes) {
      std::fclose(f);
      throw ConfigError(fmt::format("{} '{}' is larger than {} MiB: not a config file", what, path,
                                    kMaxConfigBytes >> 20));
    }
  }
  bool failed = std::ferror(f) != 0;
  int e = errno;
  std::fclose(f);
  if (failed) throw ConfigError(fmt::format("cannot read {} '{}': {}", what, path, std::strerror(e)));
  return text;
}

YAML::Node parse_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {  // yaml-cpp's own guard; its message is just "bad file"
    throw ConfigError(SourceLoc{file, e.mark.line + 1, e.mark.column + 1}, "",
                      fmt::format("YAML nested more than {} levels deep: not a config file", e.depth() - 1));
  } catch (const YAML::Exception& e) {
    SourceLoc loc{file, 0, 0};
    if (!e.mark.is_null()) loc = SourceLoc{file, e.mark.line + 1, e.mark.column + 1};
    throw ConfigError(loc, "", "YAML syntax error: " + e.msg);
  }
}

YAML::Node key_node(const YAML::Node& map, const std::string& key) {
  if (map.IsMap())
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->first;
  return YAML::Node(YAML::NodeType::Undefined);
}

void check_keys(const YAML::Node& map, const std::vector<std::string>* allowed, const std::string& file,
                const std::string& path, const std::string& what) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node k = it->first;
    if (!k.IsScalar())
      throw ConfigError(loc_of(k, file), path, fmt::format("expected a plain {} name, got {}", what, describe(k)));
    const std::string& s = k.Scalar();
    if (!seen.insert(s).second)
      throw ConfigError(loc_of(k, file), path, fmt::format("duplicate {} '{}'", what, s));
    if (allowed && std::find(allowed->begin(), allowed->end(), s) == allowed->end())
      throw ConfigError(loc_of(k, file), path,
                        fmt::format("unknown {} '{}'{}; expected one of: {}", what, s, did_you_mean(s, *allowed),
                                    join(*allowed)));
  }
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string m = closest_match(word, candidates);
  return m.empty() ? "" : " (did you mean '" + m + "'?)";
}

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string join_path(const std::string& scope, const std::string& name) {
  return scope.empty() ? name : scope + "." + name;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined()) return "nothing";
  switch (node.Type()) {
    case YAML::NodeType::Scalar: return "'" + node.Scalar() + "'";
    case YAML::NodeType::Sequence: {
      std::string out = "[";
      size_t i = 0;
      for (const auto& item : node) {
        if (i++) out += ", ";
        if (i > 8) {
          out += "...";
          break;
        }
        out += item.IsScalar() ? item.Scalar() : (item.IsSequence() ? "[...]" : "{...}");
      }
      return out + "]";
    }
    case YAML::NodeType::Map: return "a mapping";
    default: return "nothing";
  }
}

YAML::Node detached_copy(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      YAML::Node out(node.Scalar());
      out.SetTag(node.Tag());
      return out;
    }
    case YAML::NodeType::Sequence: {
      YAML::Node out(YAML::NodeType::Sequence);
      for (const auto& item : node) out.push_back(detached_copy(item));
      out.SetStyle(node.Style());
      return out;
    }
    case YAML::NodeType::Map: {
      YAML::Node out(YAML::NodeType::Map);
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (it->first.IsScalar())
          out[it->first.Scalar()] = detached_copy(it->second);
        else
          out[detached_copy(it->first)] = detached_copy(it->second);
      }
      out.SetStyle(node.Style());
      return out;
    }
    default: return YAML::Node(YAML::NodeType::Null);
  }
}

std::string format_double(double v) {
  std::string s = fmt::format("{}", v);
  if (std::isfinite(v) && s.find_first_of(".eE") == std::string::npos) s += ".0";
  return s;
}

}  // namespace cnn::cfg
