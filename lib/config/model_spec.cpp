#include "config/model_spec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "config/model_build.h"
#include "config/model_expand.h"
#include "config/model_init.h"
#include "config/yaml_util.h"
#include "layers/registry.h"

namespace cnn {

namespace cfg {

namespace {

const std::vector<std::string> kTopKeys = {"name", "input", "args", "blocks", "layers", "init"};
const std::vector<std::string> kBlockKeys = {"args", "layers", "branches", "merge", "then", kMergeDropPath};

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool is_reserved(const std::string& s) {
  return s == "identity" || std::find(kElementMetaKeys.begin(), kElementMetaKeys.end(), s) != kElementMetaKeys.end() ||
         std::find(kGroupKeys.begin(), kGroupKeys.end(), s) != kGroupKeys.end();
}

// 2^40 floats (4 TiB) per sample: beyond any machine, far from int64 overflow even times a batch.
constexpr int64_t kMaxInputElements = int64_t(1) << 40;

Shape parse_input(const YAML::Node& n, const std::string& file) {
  auto bad = [&]() {
    throw ConfigError(loc_of(n, file), "input",
                      fmt::format("expected a list of 3 positive integers [C, H, W], got {}", describe(n)));
  };
  if (!n.IsSequence() || n.size() != 3) bad();
  Shape out;
  for (const auto& item : n) {
    int64_t v = 0;
    if (!item.IsScalar()) bad();
    const std::string& s = item.Scalar();
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || v < 1) bad();
    out.push_back(v);
  }
  // The product must not overflow (a per-sample size the memory budget then judges).
  if (out[0] > kMaxInputElements / out[1] / out[2])
    throw ConfigError(loc_of(n, file), "input",
                      fmt::format("[{}, {}, {}] has more than {} elements per sample", out[0], out[1], out[2],
                                  kMaxInputElements));
  return out;
}

// The `args:` mapping of a block (or of the model) into b.arg_names and b.defaults; `path` is
// "blocks.<name>" ("" for the model's own args).
void parse_args(const YAML::Node& args, const std::string& file, const std::string& owner, BlockDef& b) {
  const std::string path = owner.empty() ? "args" : owner + ".args";
  if (args.IsDefined() && !args.IsNull()) {
    if (!args.IsMap())
      throw ConfigError(loc_of(args, file), path,
                        fmt::format("expected a mapping of argument names to defaults, e.g. {{out: 16, stride: 1}}, "
                                    "got {}",
                                    describe(args)));
    check_keys(args, nullptr, file, path, "argument");
    for (auto it = args.begin(); it != args.end(); ++it) {
      const std::string& name = it->first.Scalar();
      std::string apath = path + "." + name;
      if (!is_identifier(name))
        throw ConfigError(loc_of(it->first, file), apath,
                          "an argument name must be letters, digits and '_', starting with a letter or '_'");
      b.arg_names.push_back(name);
      const YAML::Node v = it->second;
      if (v.IsNull()) continue;  // required argument
      ArgValue av;
      av.loc = loc_of(v, file);
      auto add_item = [&](const YAML::Node& item) {
        if (!item.IsScalar())
          throw ConfigError(loc_of(item, file), apath,
                            fmt::format("a default must be a scalar or a flat list of scalars, got {}", describe(item)));
        if (item.Scalar().find('$') != std::string::npos)
          throw ConfigError(loc_of(item, file), apath,
                            fmt::format("a default cannot use '$' expressions, got '{}'", item.Scalar()));
        av.items.push_back(item.Scalar());
      };
      if (v.IsSequence()) {
        av.is_list = true;
        for (const auto& item : v) add_item(item);
      } else {
        add_item(v);
      }
      b.defaults[name] = std::move(av);
    }
  }
}

BlockDef parse_block(const YAML::Node& key, const YAML::Node& def, const std::string& file) {
  BlockDef b;
  b.name = key.Scalar();
  b.loc = loc_of(key, file);
  std::string path = "blocks." + b.name;
  if (!is_identifier(b.name))
    throw ConfigError(b.loc, path, "a block name must be letters, digits and '_', starting with a letter or '_'");
  if (is_layer_type(b.name))
    throw ConfigError(b.loc, path, fmt::format("block '{}' has the name of a layer type; rename the block", b.name));
  if (is_reserved(b.name)) throw ConfigError(b.loc, path, fmt::format("'{}' is a reserved word; rename the block", b.name));
  if (!def.IsMap())
    throw ConfigError(loc_of(def, file), path,
                      fmt::format("a block is a mapping with 'args', 'layers', 'branches', 'merge', 'then'; got {}",
                                  describe(def)));
  check_keys(def, kBlockKeys, file, path);
  b.body = def;
  parse_args(def["args"], file, path, b);
  return b;
}

std::string stem_of(const std::string& file) {
  std::string s = std::filesystem::path(file).stem().string();
  return s.empty() ? "model" : s;
}

}  // namespace

std::string emit_yaml(const YAML::Node& doc) {
  YAML::Emitter e;
  e << doc;
  return std::string(e.c_str()) + "\n";
}

void apply_model_overrides(YAML::Node doc, const std::vector<Override>& overrides, size_t first,
                           const std::string& shown_prefix) {
  if (overrides.empty()) return;
  if (!doc.IsMap()) throw ConfigError(SourceLoc{"--set", 0, 0}, "", "cannot apply --set: the model is not a mapping");
  std::vector<std::string> block_names;
  if (const YAML::Node blocks = static_cast<const YAML::Node&>(doc)["blocks"]; blocks.IsDefined() && blocks.IsMap())
    for (auto it = blocks.begin(); it != blocks.end(); ++it)
      if (it->first.IsScalar()) block_names.push_back(it->first.Scalar());
  auto is_index = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  AllowNewKey allow = [&](const std::vector<std::string>& parent, const std::string& key) {
    if (parent.empty()) return std::find(kTopKeys.begin(), kTopKeys.end(), key) != kTopKeys.end();
    if (parent[0] == "init") return true;  // parse_init checks every key of `init:`
    const std::string& last = parent.back();
    if (is_index(last))  // an element mapping: its meta keys
      return std::find(kElementMetaKeys.begin(), kElementMetaKeys.end(), key) != kElementMetaKeys.end();
    if (parent.size() >= 2 && is_index(parent[parent.size() - 2]))  // an element's arguments
      return is_layer_type(last) || std::find(block_names.begin(), block_names.end(), last) != block_names.end();
    return false;
  };
  const YAML::Node model_args = static_cast<const YAML::Node&>(doc)["args"];
  for (const auto& o : overrides) {
    // `classes=5` names the model argument args.classes (a key that is no top-level key).
    if (o.path.size() == first + 1 && std::find(kTopKeys.begin(), kTopKeys.end(), o.path[first]) == kTopKeys.end() &&
        model_args.IsDefined() && model_args.IsMap() && model_args[o.path[first]].IsDefined()) {
      Override a = o;
      a.path.insert(a.path.begin() + std::ptrdiff_t(first), "args");
      apply_override_in_document(doc, a, first, shown_prefix, allow);
      continue;
    }
    apply_override_in_document(doc, o, first, shown_prefix, allow);
  }
}

ModelSpec build_model(const YAML::Node& doc, const std::string& file, const std::string& text,
                      const std::string& default_name) {
  ModelSpec spec;
  spec.file = file;
  spec.text = text;
  if (!doc.IsMap())
    throw ConfigError(loc_of(doc, file).line ? loc_of(doc, file) : SourceLoc{file, 0, 0}, "",
                      fmt::format("a model config must be a mapping with 'input' and 'layers', got {}", describe(doc)));
  check_keys(doc, kTopKeys, file, "", "top-level key");
  const YAML::Node name = doc["name"], input = doc["input"], blocks = doc["blocks"], layers = doc["layers"];
  if (name.IsDefined()) {
    if (!name.IsScalar()) throw ConfigError(loc_of(name, file), "name", "expected a string, got " + describe(name));
    spec.name = name.Scalar();
  } else {
    spec.name = default_name;
  }
  SourceLoc top{file, 1, 1};
  if (!input.IsDefined()) throw ConfigError(top, "", "missing required key 'input' (the per-sample shape [C, H, W])");
  spec.input = parse_input(input, file);

  std::map<std::string, BlockDef> defs;
  if (blocks.IsDefined() && !blocks.IsNull()) {
    if (!blocks.IsMap())
      throw ConfigError(loc_of(blocks, file), "blocks",
                        "expected a mapping of block names to definitions, got " + describe(blocks));
    check_keys(blocks, nullptr, file, "blocks", "block name");
    for (auto it = blocks.begin(); it != blocks.end(); ++it) {
      BlockDef b = parse_block(it->first, it->second, file);
      defs.emplace(b.name, std::move(b));
    }
  }

  if (!layers.IsDefined()) throw ConfigError(top, "", "missing required key 'layers' (the list of layers)");
  if (!layers.IsSequence() || layers.size() == 0)
    throw ConfigError(loc_of(layers, file), "layers", "expected a non-empty list of layers, got " + describe(layers));
  BlockDef model_args;  // the model's own `args:`, variables of the top-level layers
  model_args.loc = top;
  parse_args(doc["args"], file, "", model_args);
  for (const auto& a : model_args.arg_names) {
    if (!model_args.defaults.count(a))
      throw ConfigError(loc_of(doc["args"][a], file), "args." + a,
                        "a model argument needs a value (set it in the recipe with model_args)");
    spec.args.emplace_back(a, model_args.defaults[a].items);
  }
  spec.nodes = expand_layers(layers, file, defs, &spec.heads, &model_args);
  spec.init = parse_init(doc["init"], file, spec.nodes);
  if (spec.nodes.empty()) throw ConfigError(loc_of(layers, file), "layers", "the model has no layers (only identity)");
  return spec;
}

namespace {

ModelSpec load_document(const std::string& text, const std::string& file, const std::vector<std::string>& overrides) {
  std::vector<Override> ovs = parse_overrides(overrides);
  YAML::Node doc = parse_yaml(text, file);
  apply_model_overrides(doc, ovs, 0, "");
  return build_model(doc, file, ovs.empty() ? text : emit_yaml(doc), stem_of(file));
}

}  // namespace

}  // namespace cfg

ModelSpec load_model_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text = cfg::read_text_file(path, "model config");
  return cfg::load_document(text, path, overrides);
}

ModelSpec load_model_string(const std::string& yaml_text, const std::string& name_for_errors,
                            const std::vector<std::string>& overrides) {
  ModelSpec spec = cfg::load_document(yaml_text, name_for_errors, overrides);
  spec.file.clear();
  return spec;
}

}  // namespace cnn

namespace cnn {

bool ModelSpec::has_arg(const std::string& arg) const {
  for (const auto& [n, v] : args)
    if (n == arg) return true;
  return false;
}

}  // namespace cnn
