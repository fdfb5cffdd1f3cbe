#include "config/overrides.h"

#include <charconv>

#include <fmt/format.h>

#include "config/yaml_util.h"
#include "core/error.h"

namespace cnn::cfg {

namespace {

const SourceLoc kSetLoc{"--set", 0, 0};

[[noreturn]] void set_error(const std::string& message) { throw ConfigError(kSetLoc, "", message); }

std::string dotted(const std::vector<std::string>& path, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < path.size(); ++i) out += (i > begin ? "." : "") + path[i];
  return out;
}

// The value node of `key` in a mapping, or an undefined node (never creates an entry).
YAML::Node child_of(const YAML::Node& map, const std::string& key) {
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key) return it->second;
  return YAML::Node(YAML::NodeType::Undefined);
}

std::vector<std::string> keys_of(const YAML::Node& map) {
  std::vector<std::string> out;
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar()) out.push_back(it->first.Scalar());
  return out;
}

bool parse_index(const std::string& s, size_t& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// How the path up to segment `end` reads in messages: the prefix ("model.") plus the segments
// from `first` on, or the prefix alone without its dot.
std::string shown_path(const std::string& shown_prefix, const std::vector<std::string>& path, size_t first, size_t end) {
  std::string rel = dotted(path, first, end);
  if (!rel.empty()) return shown_prefix + rel;
  if (!shown_prefix.empty() && shown_prefix.back() == '.') return shown_prefix.substr(0, shown_prefix.size() - 1);
  return shown_prefix;
}

[[noreturn]] void unknown_key(const std::string& shown_prefix, const std::vector<std::string>& path, size_t first,
                              size_t i, const std::vector<std::string>& candidates) {
  std::string parent = shown_path(shown_prefix, path, first, i);
  std::string full = shown_path(shown_prefix, path, first, path.size());
  std::string m = closest_match(path[i], candidates);
  std::string msg = fmt::format("unknown key '{}'", full);
  if (!m.empty()) msg += fmt::format(" (did you mean '{}'?)", join_path(parent, m));
  if (!candidates.empty())
    msg += fmt::format("; keys {}: {}", parent.empty() ? "at the top level" : "under '" + parent + "'",
                       join(candidates));
  set_error(msg);
}

}  // namespace

Override parse_override(const std::string& text) {
  Override o;
  o.text = text;
  size_t eq = text.find('=');
  if (eq == std::string::npos) set_error(fmt::format("expected key=value, got '{}'", text));
  o.key = text.substr(0, eq);
  size_t start = 0;
  for (;;) {
    size_t dot = o.key.find('.', start);
    std::string seg = o.key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (seg.empty()) set_error(fmt::format("bad key '{}' in '{}': empty segment", o.key, text));
    o.path.push_back(seg);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::string value = text.substr(eq + 1);
  try {
    o.value = detached_copy(YAML::Load(value));
  } catch (const YAML::Exception& e) {
    set_error(fmt::format("'{}': the value is not valid YAML: {}", text, e.msg));
  }
  return o;
}

std::vector<Override> parse_overrides(const std::vector<std::string>& texts) {
  std::vector<Override> out;
  for (const auto& t : texts) out.push_back(parse_override(t));
  return out;
}

void apply_override_in_document(YAML::Node doc, const Override& o, size_t first, const std::string& shown_prefix,
                                const AllowNewKey& allow_new) {
  const auto& path = o.path;
  YAML::Node cur = doc;
  for (size_t i = first; i < path.size(); ++i) {
    const std::string& seg = path[i];
    bool last = i + 1 == path.size();
    YAML::Node next;  // rebound with reset(): Node::operator= would overwrite the node it refers to
    if (cur.IsMap()) {
      next.reset(child_of(cur, seg));
      if (!next.IsDefined()) {
        std::vector<std::string> parent_path(path.begin() + static_cast<long>(first), path.begin() + static_cast<long>(i));
        if (last && allow_new && allow_new(parent_path, seg)) {
          cur[seg] = o.value;
          return;
        }
        unknown_key(shown_prefix, path, first, i, keys_of(cur));
      }
    } else if (cur.IsSequence()) {
      size_t idx = 0;
      const std::string full = shown_path(shown_prefix, path, first, path.size());
      const std::string parent = shown_path(shown_prefix, path, first, i);
      if (!parse_index(seg, idx))
        set_error(fmt::format("'{}': '{}' is a list; expected an index 0..{}, got '{}'", full, parent,
                              cur.size() - 1, seg));
      if (idx >= cur.size())
        set_error(fmt::format("'{}': index {} is out of range: '{}' has {} item{}", full, idx, parent, cur.size(),
                              cur.size() == 1 ? "" : "s"));
      next.reset(cur[idx]);
    } else {
      std::string parent = shown_path(shown_prefix, path, first, i);
      set_error(fmt::format("unknown key '{}': '{}' is {}, not a mapping or list",
                            shown_path(shown_prefix, path, first, path.size()),
                            parent.empty() ? std::string("the document") : parent, describe(cur)));
    }
    if (last) {
      next = o.value;  // makes the document's node refer to the new value
      return;
    }
    cur.reset(next);
  }
}

void apply_override_with_schema(YAML::Node doc, const Override& o, const Schema& schema, const std::string& file) {
  const auto& path = o.path;
  const Schema* s = &schema;
  YAML::Node cur = doc;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = path[i];
    if (s->fields.empty()) {
      if (s->open) {  // below a free-form field: the path must exist in the document
        apply_override_in_document(cur, o, i, dotted(path, 0, i) + ".", nullptr);  // messages show the full key
        return;
      }
      set_error(fmt::format("unknown key '{}': '{}' has no sub-keys", o.key, dotted(path, 0, i)));
    }
    auto it = s->fields.find(seg);
    if (it == s->fields.end()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : s->fields) names.push_back(k);
      std::string parent = dotted(path, 0, i);
      std::string m = closest_match(seg, names);
      std::string msg = fmt::format("unknown key '{}'", o.key);
      if (!m.empty()) msg += fmt::format(" (did you mean '{}'?)", join_path(parent, m));
      msg += fmt::format("; keys {}: {}", parent.empty() ? "at the top level" : "under '" + parent + "'", join(names));
      set_error(msg);
    }
    if (!cur.IsMap()) {
      if (!cur.IsNull() && cur.IsDefined())
        throw ConfigError(loc_of(cur, file), dotted(path, 0, i),
                          fmt::format("expected a mapping, got {} (while applying --set {})", describe(cur), o.text));
      cur = YAML::Node(YAML::NodeType::Map);  // turns the document's null section into a mapping
    }
    YAML::Node next = child_of(cur, seg);  // bound to the document's node (or undefined)
    if (i + 1 == path.size()) {
      if (next.IsDefined())
        next = o.value;
      else
        cur[seg] = o.value;
      return;
    }
    if (!next.IsDefined()) {
      cur[seg] = YAML::Node(YAML::NodeType::Map);
      next.reset(child_of(cur, seg));
    } else if (next.IsNull()) {
      next = YAML::Node(YAML::NodeType::Map);
    }
    cur.reset(next);
    s = &it->second;
  }
}

}  // namespace cnn::cfg
