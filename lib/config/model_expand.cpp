#include "config/model_expand.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "config/expression.h"
#include "config/yaml_util.h"
#include "layers/registry.h"

namespace cnn::cfg {

namespace {

// More layers than any real network has (the largest zoo model has ~1000); a bound that keeps a
// hostile `repeat` or nested blocks from expanding without end.
constexpr int64_t kMaxLayers = 100000;

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool valid_node_name(const std::string& s) {
  if (s.empty() || s.front() == '.' || s.back() == '.' || s.find("..") != std::string::npos) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

class Expander {
 public:
  Expander(const std::string& file, const std::map<std::string, BlockDef>& blocks) : file_(file), blocks_(blocks) {}

  std::vector<NodeSpec> run(const YAML::Node& layers, std::vector<HeadSpec>* heads, const BlockDef* model_args) {
    Env top;
    if (model_args && !model_args->arg_names.empty()) top = Env{model_args, model_args->defaults};
    sequence(layers, "", "", -1, top);
    if (!heads_.empty() && heads_.back().node == static_cast<int>(nodes_.size()) - 1)
      throw ConfigError(loc(layers), heads_.back().name, "a head cannot be the model's last element: the main output must follow it");
    if (heads) *heads = std::move(heads_);
    return std::move(nodes_);
  }

 private:
  struct Env {
    const BlockDef* block = nullptr;
    std::map<std::string, ArgValue> vars;
  };

  SourceLoc loc(const YAML::Node& n) const { return loc_of(n, file_); }

  // Elements of `seq` in order, each taking the previous one's output. Unnamed elements are
  // named `<pos_scope>.<i>`, named ones `<named_scope>.<name>`. `position` (spliced sequences)
  // continues the enclosing sequence's count.
  int sequence(const YAML::Node& seq, const std::string& named_scope, const std::string& pos_scope, int input,
               const Env& env, size_t* position = nullptr) {
    int x = input;
    size_t pos = position ? *position : 0;
    for (size_t i = 0; i < seq.size(); ++i) x = element(seq[i], pos, named_scope, pos_scope, x, env);
    if (position) *position = pos;
    return x;
  }

  // Names an element by position `pos` in its sequence and advances `pos` past it (by more than
  // one for a spliced element).
  int element(const YAML::Node& el, size_t& pos, const std::string& named_scope, const std::string& pos_scope,
              int input, const Env& env) {
    const size_t index = pos++;
    const std::string pos_path = join_path(pos_scope, std::to_string(index));
    if (el.IsScalar()) {
      std::string type = el.Scalar();
      if (type.find('$') != std::string::npos) {
        auto var = bare_variable(type);
        if (!var)
          throw ConfigError(loc(el), pos_path,
                            fmt::format("'{}' is not a layer: an element may be a layer type, a block name or "
                                        "a bare '$argument' naming one",
                                        type));
        const ArgValue& v = lookup(*var, env, loc(el), pos_path, "");
        if (v.is_list || v.items.size() != 1)
          throw ConfigError(loc(el), pos_path, fmt::format("'${}' is a list; expected a layer type or block name", *var));
        type = v.items[0];
      }
      return instantiate(type, YAML::Node(YAML::NodeType::Undefined), el, pos_path, loc(el), input, env, false);
    }
    if (el.IsNull()) throw ConfigError(loc(el), pos_path, "empty element: expected a layer type, a block or a group");
    if (el.IsSequence())
      throw ConfigError(loc(el), pos_path,
                        "a list is not an element: nested lists are only allowed as 'branches' items");

    // A mapping: {type: args, name:, repeat:} or an inline group {layers:, branches:, merge:, then:, ...}.
    check_keys(el, nullptr, file_, pos_path);
    std::vector<YAML::Node> type_keys;
    bool is_group = false;
    for (auto it = el.begin(); it != el.end(); ++it) {
      const std::string& k = it->first.Scalar();
      if (contains(kGroupKeys, k)) is_group = true;
      if (!contains(kElementMetaKeys, k)) type_keys.push_back(it->first);
    }

    std::string path = pos_path;
    if (const YAML::Node n = el["name"]; n.IsDefined()) {
      if (!n.IsScalar() || !valid_node_name(n.Scalar()))
        throw ConfigError(loc(n), pos_path,
                          fmt::format("field 'name' expects a name made of letters, digits, '_', '-' and '.', got {}",
                                      describe(n)));
      path = join_path(named_scope, n.Scalar());
    }
    int64_t repeat = 1;
    const YAML::Node rep = el["repeat"];
    if (rep.IsDefined()) repeat = parse_repeat(rep, env, path);
    // `repeat_from: k` (docs/config.md, "Numbering from k"): instances <name><k>, <name><k+1>, ...
    int64_t repeat_from = -1;
    if (const YAML::Node rf = el["repeat_from"]; rf.IsDefined()) {
      if (!rep.IsDefined() || !el["name"].IsDefined())
        throw ConfigError(loc(rf), path,
                          "'repeat_from' needs 'repeat' and 'name': it names the instances <name><k>, <name><k+1>, ...");
      repeat_from = parse_count(rf, env, path, "repeat_from", 0);
    }
    // `scope: false` (docs/config.md, "Groups without a scope"): the group's named elements are
    // named in the enclosing scope, as modules a torchvision forward() wires up by hand.
    bool own_scope = true;
    if (const YAML::Node sc = el["scope"]; sc.IsDefined()) {
      if (!sc.IsScalar() || !YAML::convert<bool>::decode(sc, own_scope))
        throw ConfigError(loc(sc), path, fmt::format("field 'scope' expects true or false, got {}", describe(sc)));
      if (!own_scope && !is_group)
        throw ConfigError(loc(sc), path, "'scope: false' applies to an inline group ({branches: ..., merge: ...})");
    }

    if (is_group) {
      std::vector<std::string> allowed = kGroupKeys;
      allowed.push_back(kMergeDropPath);
      allowed.insert(allowed.end(), kElementMetaKeys.begin(), kElementMetaKeys.end());
      check_keys(el, allowed, file_, path);
    } else {
      if (type_keys.empty())
        throw ConfigError(loc(el), path,
                          "element has no layer type: expected a layer type or block name as a key, "
                          "e.g. {conv: {out: 8, k: 3}, name: conv1}");
      if (type_keys.size() > 1) reject_extra_keys(type_keys, path);
    }

    double head_weight = 0;
    if (const YAML::Node h = el["head"]; h.IsDefined()) {
      double w = -1;
      try {
        w = h.IsScalar() ? h.as<double>() : -1;
      } catch (const YAML::Exception&) {
      }
      if (!(w > 0))
        throw ConfigError(loc(h), path, fmt::format("field 'head' expects the head's loss weight, a number > 0, got {}", describe(h)));
      if (rep.IsDefined()) throw ConfigError(loc(h), path, "a head cannot be repeated");
      head_weight = w;
    }

    if (const YAML::Node sp = el["splice"]; sp.IsDefined() && splice_flag(sp, path)) {
      if (head_weight > 0 || el["name"].IsDefined())
        throw ConfigError(loc(el), path,
                          "a spliced element takes its names from the enclosing list: it cannot have 'name' or 'head'");
      pos = index;
      return splice(el, is_group ? nullptr : &type_keys[0], repeat, pos, named_scope, pos_scope, input, env,
                    own_scope);
    }

    int x = input;
    for (int64_t r = 0; r < repeat; ++r) {
      std::string inst = !rep.IsDefined() ? path
                         : repeat_from >= 0 ? path + std::to_string(repeat_from + r)
                                            : path + "." + std::to_string(r);
      if (is_group) {
        x = body(el, inst, x, env, own_scope ? inst : named_scope);
      } else {
        const YAML::Node& key = type_keys[0];
        x = instantiate(key.Scalar(), el[key.Scalar()], key, inst, loc(el), x, env, r > 0);
      }
    }
    if (head_weight > 0) {
      // A side output: the sequence goes on from this element's input.
      if (x == input) throw ConfigError(loc(el), path, "a head needs at least one layer");
      heads_.push_back(HeadSpec{path, x, head_weight});
      return input;
    }
    return x;
  }

  bool splice_flag(const YAML::Node& sp, const std::string& path) const {
    bool on = false;
    if (!sp.IsScalar() || !YAML::convert<bool>::decode(sp, on))
      throw ConfigError(loc(sp), path, fmt::format("field 'splice' expects true or false, got {}", describe(sp)));
    return on;
  }

  // `splice: true` (docs/config.md, "Splicing"): the element is written out in the enclosing
  // sequence, as torchvision builds an nn.Sequential from a list (`layers += [conv, relu]`).
  // Each repetition of a layer, or of a block or group with branches, takes the next position; a
  // block or group made only of `layers` contributes those layers, each at the next position.
  int splice(const YAML::Node& el, const YAML::Node* type_key, int64_t repeat, size_t& pos,
             const std::string& named_scope, const std::string& pos_scope, int input, const Env& env,
             bool own_scope) {
    auto layers_only = [](const YAML::Node& b) {
      return b["layers"].IsDefined() && !b["branches"].IsDefined() && !b["merge"].IsDefined() && !b["then"].IsDefined() &&
             !b[kMergeDropPath].IsDefined();
    };
    int x = input;
    for (int64_t r = 0; r < repeat; ++r) {
      const std::string inst = join_path(pos_scope, std::to_string(pos));
      if (!type_key) {  // an inline group
        if (layers_only(el)) {
          x = sequence(el["layers"], named_scope, pos_scope, x, env, &pos);
        } else {
          ++pos;
          x = body(el, inst, x, env, own_scope ? inst : named_scope);
        }
        continue;
      }
      const std::string type = type_key->Scalar();
      const YAML::Node args = el[type];
      auto it = blocks_.find(type);
      if (it != blocks_.end() && !is_layer_type(type) && layers_only(it->second.body)) {
        Env benv = block_env(it->second, args, inst, env, r > 0);
        stack_.push_back(type);
        x = sequence(it->second.body["layers"], named_scope, pos_scope, x, benv, &pos);
        stack_.pop_back();
      } else {
        ++pos;
        x = instantiate(type, args, *type_key, inst, loc(el), x, env, r > 0);
      }
    }
    return x;
  }

  int64_t parse_repeat(const YAML::Node& rep, const Env& env, const std::string& path) {
    const int64_t n = parse_count(rep, env, path, "repeat", 1);
    if (n > kMaxLayers)
      throw ConfigError(loc(rep), path,
                        fmt::format("field 'repeat': {} repetitions make more than {} layers", n, kMaxLayers));
    return n;
  }

  // An integer >= `min`, literal or `$` expression, for the meta key `field`.
  int64_t parse_count(const YAML::Node& rep, const Env& env, const std::string& path, const char* field, int64_t min) {
    std::string got = describe(rep);
    if (rep.IsScalar()) {
      std::string text = rep.Scalar();
      if (text.find('$') != std::string::npos) {
        ArgValue v = evaluate(rep, env, path, field);
        if (!v.is_list && v.items.size() == 1) got = "'" + (text = v.items[0]) + "'";
      }
      int64_t n = 0;
      auto r = std::from_chars(text.data(), text.data() + text.size(), n);
      if (!text.empty() && r.ec == std::errc() && r.ptr == text.data() + text.size() && n >= min) return n;
    }
    throw ConfigError(loc(rep), path, fmt::format("field '{}' expects an integer >= {}, got {}", field, min, got));
  }

  [[noreturn]] void reject_extra_keys(const std::vector<YAML::Node>& keys, const std::string& path) {
    std::vector<std::string> extra_candidates = kElementMetaKeys;
    extra_candidates.insert(extra_candidates.end(), kGroupKeys.begin(), kGroupKeys.end());
    std::vector<const YAML::Node*> known;
    for (const auto& k : keys) {
      if (is_known(k.Scalar())) {
        known.push_back(&k);
        continue;
      }
      std::string m = closest_match(k.Scalar(), extra_candidates);
      if (!m.empty())
        throw ConfigError(loc(k), path, fmt::format("unknown key '{}' (did you mean '{}'?)", k.Scalar(), m));
    }
    if (known.size() == 1) {
      for (const auto& k : keys)
        if (&k != known[0])
          throw ConfigError(loc(k), path,
                            fmt::format("unknown key '{}' next to layer type '{}': an element has one layer type or "
                                        "block name plus optional keys: {}",
                                        k.Scalar(), known[0]->Scalar(), join(kElementMetaKeys)));
    }
    if (known.empty()) unknown_type(keys[0].Scalar(), loc(keys[0]), path);
    throw ConfigError(loc(*known[1]), path,
                      fmt::format("element has more than one layer type ('{}' and '{}'): write one element per layer",
                                  known[0]->Scalar(), known[1]->Scalar()));
  }

  bool is_known(const std::string& type) const {
    return type == "identity" || is_layer_type(type) || blocks_.count(type) != 0;
  }

  [[noreturn]] void unknown_type(const std::string& type, const SourceLoc& at, const std::string& path) const {
    std::vector<std::string> types = layer_type_names();
    std::vector<std::string> blocks;
    for (const auto& [name, def] : blocks_) blocks.push_back(name);
    std::vector<std::string> candidates = types;
    candidates.insert(candidates.end(), blocks.begin(), blocks.end());
    if (!contains(candidates, "identity")) candidates.push_back("identity");
    std::string msg = fmt::format("unknown layer type '{}'{}; known types: {}", type, did_you_mean(type, candidates),
                                  join(types));
    msg += blocks.empty() ? "; no blocks defined" : "; blocks: " + join(blocks);
    throw ConfigError(at, path, msg);
  }

  // A layer, a block instance or identity. `args` is the element's value (undefined for a bare
  // string); `key` locates the type name.
  int instantiate(const std::string& type, const YAML::Node& args, const YAML::Node& key, const std::string& path,
                  const SourceLoc& el_loc, int input, const Env& env, bool later_repeat) {
    if (type == "identity") {
      if (args.IsDefined() && !args.IsNull() && !(args.IsMap() && args.size() == 0))
        throw ConfigError(loc(args), path, "'identity' takes no arguments");
      return input;
    }
    if (is_layer_type(type)) return layer(type, args, path, el_loc, input, env, later_repeat);
    auto it = blocks_.find(type);
    if (it != blocks_.end()) return block_instance(it->second, args, path, input, env, later_repeat);
    unknown_type(type, loc(key), path);
  }

  int layer(const std::string& type, const YAML::Node& args, const std::string& path, const SourceLoc& el_loc,
            int input, const Env& env, bool later_repeat) {
    NodeSpec n;
    n.name = path;
    n.type = type;
    n.args = LayerArgs(path, type, el_loc);
    n.inputs = {input};
    if (args.IsDefined() && !args.IsNull()) {
      if (!args.IsMap())
        throw ConfigError(loc(args), path,
                          fmt::format("arguments of layer type '{}' must be a mapping like {{out: 8}}, got {}", type,
                                      describe(args)));
      check_keys(args, nullptr, file_, path, "argument");
      for (auto it = args.begin(); it != args.end(); ++it) {
        const std::string& key = it->first.Scalar();
        if (later_repeat && key == "stride") continue;  // stride applies to the first repetition only
        n.args.set(key, evaluate(it->second, env, path, key));
      }
    }
    if (type == "max_unpool") link_max_pool(n, args);
    return add_node(std::move(n));
  }

  int block_instance(const BlockDef& def, const YAML::Node& args, const std::string& path, int input,
                     const Env& caller, bool later_repeat) {
    Env env = block_env(def, args, path, caller, later_repeat);
    stack_.push_back(def.name);
    int x = body(def.body, path, input, env);
    stack_.pop_back();
    return x;
  }

  // The variables of an instance of `def`: its defaults, overridden by `args` evaluated in the caller's scope.
  Env block_env(const BlockDef& def, const YAML::Node& args, const std::string& path, const Env& caller,
                bool later_repeat) {
    if (contains(stack_, def.name)) {
      std::string chain = join(stack_, " -> ") + " -> " + def.name;
      throw ConfigError(def.loc, path, fmt::format("block '{}' uses itself ({})", def.name, chain));
    }
    Env env;
    env.block = &def;
    env.vars = def.defaults;
    if (args.IsDefined() && !args.IsNull()) {
      if (!args.IsMap())
        throw ConfigError(loc(args), path,
                          fmt::format("arguments of block '{}' must be a mapping, got {}", def.name, describe(args)));
      check_keys(args, nullptr, file_, path, "argument");
      for (auto it = args.begin(); it != args.end(); ++it) {
        const std::string& key = it->first.Scalar();
        if (!contains(def.arg_names, key))
          throw ConfigError(loc(it->first), path,
                            fmt::format("block '{}' has no argument '{}'{}; {}", def.name, key,
                                        did_you_mean(key, def.arg_names), arguments_of(def)));
        if (later_repeat && key == "stride") continue;  // stride applies to the first repetition only
        env.vars[key] = evaluate(it->second, caller, path, key);
      }
    }
    for (const auto& a : def.arg_names)
      if (!env.vars.count(a))
        throw ConfigError(args.IsDefined() ? loc(args) : def.loc, path,
                          fmt::format("block '{}' requires argument '{}'", def.name, a));
    return env;
  }

  static std::string arguments_of(const BlockDef& def) {
    if (def.name.empty()) return fmt::format("the model has arguments: {}", join(def.arg_names));
    if (def.arg_names.empty()) return fmt::format("block '{}' takes no arguments", def.name);
    std::vector<std::string> sorted = def.arg_names;
    std::sort(sorted.begin(), sorted.end());
    return fmt::format("block '{}' has arguments: {}", def.name, join(sorted));
  }

  // A block body or inline group: layers, then branches joined by merge, then `then`. Named
  // elements are `<names>.<name>` (`names` is `inst` unless the group has `scope: false`).
  int body(const YAML::Node& map, const std::string& inst, int input, const Env& env) {
    return body(map, inst, input, env, inst);
  }
  int body(const YAML::Node& map, const std::string& inst, int input, const Env& env, const std::string& names) {
    const YAML::Node layers = map["layers"], branches = map["branches"], merge = map["merge"], then = map["then"];
    auto need_sequence = [&](const YAML::Node& n, const char* field) {
      if (!n.IsSequence())
        throw ConfigError(loc(n), inst, fmt::format("field '{}' expects a list of layers, got {}", field, describe(n)));
    };
    if (!layers.IsDefined() && !branches.IsDefined())
      throw ConfigError(loc(map), inst, "a block or group needs 'layers' and/or 'branches'");
    int x = input;
    if (layers.IsDefined()) {
      need_sequence(layers, "layers");
      x = sequence(layers, names, inst, x, env);
    }
    if (branches.IsDefined()) {
      if (!branches.IsSequence() || branches.size() < 2)
        throw ConfigError(loc(branches), inst,
                          fmt::format("field 'branches' expects a list of at least 2 branches, got {}",
                                      describe(branches)));
      if (!merge.IsDefined())
        throw ConfigError(loc(branches), inst, "'branches' needs 'merge: add' or 'merge: concat'");
      const std::vector<std::string> merges = {"add", "concat"};
      if (!merge.IsScalar() || !contains(merges, merge.Scalar()))
        throw ConfigError(loc(merge), inst,
                          fmt::format("field 'merge' expects add or concat, got {}{}", describe(merge),
                                      merge.IsScalar() ? did_you_mean(merge.Scalar(), merges) : ""));
      std::vector<int> outs;
      for (size_t b = 0; b < branches.size(); ++b) {
        const YAML::Node br = branches[b];
        std::string scope = join_path(inst, "branch" + std::to_string(b + 1));
        size_t pos = 0;
        if (br.IsSequence())
          outs.push_back(sequence(br, names, scope, x, env));
        else if (br.IsScalar() || br.IsMap())
          outs.push_back(element(br, pos, names, scope, x, env));
        else
          throw ConfigError(loc(br), scope, "empty branch: write 'identity' for a branch that passes its input");
      }
      if (const YAML::Node dp = map[kMergeDropPath]; dp.IsDefined()) {
        if (merge.Scalar() != "add")
          throw ConfigError(loc(key_node(map, kMergeDropPath)), inst,
                            "'drop_path' applies to 'merge: add' (it drops the first branch, the residual one)");
        outs[0] = drop_path_node(dp, inst, outs[0], env);
      }
      NodeSpec n;
      n.name = join_path(inst, "merge");
      n.type = merge.Scalar();
      n.args = LayerArgs(n.name, n.type, loc(key_node(map, "merge")));
      n.inputs = outs;
      x = add_node(std::move(n));
    } else {
      if (merge.IsDefined()) throw ConfigError(loc(key_node(map, "merge")), inst, "'merge' without 'branches'");
      if (map[kMergeDropPath].IsDefined())
        throw ConfigError(loc(key_node(map, kMergeDropPath)), inst, "'drop_path' without 'branches' and 'merge: add'");
      if (then.IsDefined())
        throw ConfigError(loc(key_node(map, "then")), inst,
                          "'then' without 'branches': put the layers in 'layers' instead");
    }
    if (then.IsDefined()) {
      need_sequence(then, "then");
      x = sequence(then, names, join_path(inst, "then"), x, env);
    }
    return x;
  }

  // `drop_path: p` beside `merge: add`: a drop_path node <inst>.drop_path at the end of the first
  // branch (timm's `x = drop_path(x) + shortcut`).
  int drop_path_node(const YAML::Node& value, const std::string& inst, int input, const Env& env) {
    const ArgValue p = evaluate(value, env, inst, kMergeDropPath);
    double v = -1;
    if (p.is_list || p.items.size() != 1 || !parse_number(p.items[0], v) || !(v >= 0 && v < 1))
      throw ConfigError(loc(value), inst,
                        fmt::format("field 'drop_path' expects a probability in [0, 1), got {}",
                                    p.is_list || p.items.size() != 1 ? describe(value) : p.items[0]));
    NodeSpec n;
    n.name = join_path(inst, kMergeDropPath);
    n.type = "drop_path";
    n.args = LayerArgs(n.name, n.type, loc(value));
    n.args.set("p", p);
    n.inputs = {input};
    return add_node(std::move(n));
  }

  static bool parse_number(const std::string& s, double& v) {
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
  }

  const ArgValue& lookup(const std::string& var, const Env& env, const SourceLoc& at, const std::string& path,
                         const std::string& field) const {
    auto it = env.vars.find(var);
    if (it != env.vars.end()) return it->second;
    std::string where = field.empty() ? "" : fmt::format("field '{}': ", field);
    if (!env.block)
      throw ConfigError(at, path,
                        fmt::format("{}unknown variable '${}': variables can only be used inside a block, "
                                    "where they name the block's arguments",
                                    where, var));
    throw ConfigError(at, path,
                      fmt::format("{}unknown variable '${}'{}; {}", where, var,
                                  did_you_mean(var, env.block->arg_names), arguments_of(*env.block)));
  }

  // A scalar or flat list after substituting `$` expressions.
  ArgValue evaluate(const YAML::Node& value, const Env& env, const std::string& path, const std::string& field) {
    SourceLoc at = loc(value);
    ArgValue out;
    out.loc = at;
    if (value.IsScalar()) {
      ArgValue v = substitute(value.Scalar(), env, at, path, field);
      v.loc = at;
      return v;
    }
    if (value.IsSequence()) {
      out.is_list = true;
      for (const auto& item : value) {
        if (!item.IsScalar())
          throw ConfigError(loc(item), path,
                            fmt::format("field '{}' expects a scalar or a flat list of scalars, got {} in a list",
                                        field, item.IsNull() ? "an empty item" : describe(item)));
        ArgValue v = substitute(item.Scalar(), env, loc(item), path, field);
        if (v.is_list)
          throw ConfigError(loc(item), path,
                            fmt::format("field '{}': '{}' is a list and cannot be an item of a list", field,
                                        item.Scalar()));
        out.items.push_back(v.items[0]);
      }
      return out;
    }
    if (value.IsMap())
      throw ConfigError(at, path, fmt::format("field '{}' expects a scalar or a list of scalars, got a mapping", field));
    throw ConfigError(at, path, fmt::format("field '{}' has no value", field));
  }

  ArgValue substitute(const std::string& text, const Env& env, const SourceLoc& at, const std::string& path,
                      const std::string& field) {
    if (text.find('$') == std::string::npos) return ArgValue{{text}, false, at};
    if (auto var = bare_variable(text)) {
      ArgValue v = lookup(*var, env, at, path, field);
      v.loc = at;
      return v;
    }
    auto scalar_of = [&](const std::string& name) -> std::string {
      const ArgValue& v = lookup(name, env, at, path, field);
      if (v.is_list || v.items.size() != 1)
        throw ConfigError(at, path,
                          fmt::format("field '{}': variable '${}' is a list, not a number, in '{}'", field, name, text));
      return v.items[0];
    };
    try {
      return ArgValue{{evaluate_expression(text, scalar_of)}, false, at};
    } catch (const ExpressionError& e) {
      throw ConfigError(at, path, fmt::format("field '{}': {}", field, e.what()));
    }
  }

  // max_unpool reads the indices of an earlier max pool, named by `indices:` (looked up in the
  // node's own scope, then each enclosing scope, then as a full path). It gets the pool's input
  // as its second input and the pool's window arguments.
  void link_max_pool(NodeSpec& n, const YAML::Node& args) {
    const ArgValue* ref = n.args.values().count("indices") ? &n.args.values().at("indices") : nullptr;
    if (!ref || ref->is_list || ref->items.size() != 1)
      throw ConfigError(n.args.loc(), n.name,
                        "max_unpool needs 'indices: <name of an earlier maxpool layer>' (a single name)");
    const std::string& want = ref->items[0];
    int found = -1;
    std::string scope = n.name;
    while (found < 0) {
      size_t dot = scope.rfind('.');
      scope = dot == std::string::npos ? "" : scope.substr(0, dot);
      const std::string full = scope.empty() ? want : scope + "." + want;
      for (size_t i = 0; i < nodes_.size() && found < 0; ++i)
        if (nodes_[i].name == full) found = int(i);
      if (scope.empty()) break;
    }
    if (found < 0)
      throw ConfigError(ref->loc, n.name, fmt::format("field 'indices': no earlier layer named '{}'", want));
    const NodeSpec& pool = nodes_[size_t(found)];
    if (pool.type != "maxpool")
      throw ConfigError(ref->loc, n.name,
                        fmt::format("field 'indices': '{}' is a {} layer, expected a maxpool", pool.name, pool.type));
    for (const char* key : {"k", "stride", "pad", "ceil"}) {
      if (args.IsMap() && args[key])
        throw ConfigError(loc(args[key]), n.name,
                          fmt::format("field '{}': max_unpool takes its window from the max pool '{}'", key, pool.name));
      if (pool.args.has(key)) n.args.set(key, pool.args.values().at(key));
    }
    n.inputs.push_back(pool.inputs[0]);
  }

  int add_node(NodeSpec n) {
    if (nodes_.size() >= size_t(kMaxLayers))
      throw ConfigError(n.args.loc(), n.name,
                        fmt::format("the model expands to more than {} layers (a repeat or nested blocks too large?)",
                                    kMaxLayers));
    auto [it, fresh] = names_.emplace(n.name, n.args.loc());
    if (!fresh)
      throw ConfigError(n.args.loc(), n.name,
                        fmt::format("duplicate layer name '{}' (first used at {})", n.name, it->second.str()));
    nodes_.push_back(std::move(n));
    return static_cast<int>(nodes_.size()) - 1;
  }

  const std::string& file_;
  const std::map<std::string, BlockDef>& blocks_;
  std::vector<NodeSpec> nodes_;
  std::vector<HeadSpec> heads_;
  std::map<std::string, SourceLoc> names_;
  std::vector<std::string> stack_;
};

}  // namespace

std::vector<NodeSpec> expand_layers(const YAML::Node& layers, const std::string& file,
                                    const std::map<std::string, BlockDef>& blocks, std::vector<HeadSpec>* heads,
                                    const BlockDef* model_args) {
  return Expander(file, blocks).run(layers, heads, model_args);
}

}  // namespace cnn::cfg
