#include "config/model_init.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "config/yaml_util.h"

namespace cnn::cfg {

namespace {

const std::vector<std::string> kInitKeys = {"conv", "linear", "bias", "bn", "layers", "lsuv"};
const std::vector<std::string> kLsuvKeys = {"batch", "tol", "iters"};
// Schemes that need no fans, so they also apply to 1-D parameters (biases, BN gammas).
const std::vector<std::string> kOneDimSchemes = {"default", "zeros", "ones", "constant", "normal", "uniform"};
const std::vector<std::string> kModes = {"fan_in", "fan_out"};
const std::vector<std::string> kNonlinearities = {"linear",  "conv1d", "conv2d",     "sigmoid",
                                                  "tanh",    "relu",   "leaky_relu", "selu"};

const std::vector<std::string>& scheme_args(const std::string& type) {
  static const std::vector<std::string> none, gain{"gain"}, kaiming{"a", "mode", "nonlinearity"}, constant{"value"},
      normal{"mean", "std"}, uniform{"a", "b"};
  if (type == "xavier_uniform" || type == "xavier_normal" || type == "orthogonal") return gain;
  if (type == "kaiming_uniform" || type == "kaiming_normal") return kaiming;
  if (type == "constant") return constant;
  if (type == "normal") return normal;
  if (type == "uniform") return uniform;
  return none;
}

bool parse_number(const YAML::Node& n, double& v) {
  if (!n.IsScalar()) return false;
  std::string t = n.Scalar();
  if (!t.empty() && t[0] == '+') t = t.substr(1);
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(v);
}

std::string shown(const YAML::Node& n) {
  double d = 0;
  return parse_number(n, d) ? n.Scalar() : describe(n);
}

double get_number(const YAML::Node& args, const std::string& key, const std::string& path, const std::string& file,
                  double def, bool (*ok)(double), const char* expected) {
  const YAML::Node n = args[key];
  if (!n.IsDefined()) return def;
  double v = 0;
  if (!parse_number(n, v) || !ok(v))
    throw ConfigError(loc_of(n, file), path + "." + key, fmt::format("expected {}, got {}", expected, shown(n)));
  return v;
}

std::string get_choice(const YAML::Node& args, const std::string& key, const std::string& path,
                       const std::string& file, const std::string& def, const std::vector<std::string>& choices) {
  const YAML::Node n = args[key];
  if (!n.IsDefined()) return def;
  if (!n.IsScalar() || std::find(choices.begin(), choices.end(), n.Scalar()) == choices.end()) {
    const std::string got = n.IsScalar() ? n.Scalar() : "";
    throw ConfigError(loc_of(n, file), path + "." + key,
                      fmt::format("expected one of {}, got {}{}", join(choices), describe(n),
                                  n.IsScalar() ? did_you_mean(got, choices) : ""));
  }
  return n.Scalar();
}

// A scheme: `zeros` or `{kaiming_normal: {mode: fan_out}}`. `one_dim`: the key applies to 1-D
// parameters (bias, bn), which have no fans.
InitScheme parse_scheme(const YAML::Node& n, const std::string& file, const std::string& path, bool one_dim) {
  const auto& names = init_scheme_names();
  InitScheme s;
  s.path = path;
  s.loc = loc_of(n, file);
  YAML::Node name_node, args;
  if (n.IsScalar()) {
    name_node.reset(n);
  } else if (n.IsMap() && n.size() == 1) {
    name_node.reset(n.begin()->first);
    args.reset(n.begin()->second);
  } else {
    throw ConfigError(loc_of(n, file), path,
                      fmt::format("expected an init scheme: a name (zeros) or {{name: {{args}}}} "
                                  "({{kaiming_normal: {{mode: fan_out}}}}), got {}",
                                  describe(n)));
  }
  const std::string type = name_node.IsScalar() ? name_node.Scalar() : "";
  if (std::find(names.begin(), names.end(), type) == names.end())
    throw ConfigError(loc_of(name_node, file), path,
                      fmt::format("unknown init scheme '{}'{}; known: {}", type, did_you_mean(type, names), join(names)));
  if (one_dim && std::find(kOneDimSchemes.begin(), kOneDimSchemes.end(), type) == kOneDimSchemes.end())
    throw ConfigError(loc_of(name_node, file), path,
                      fmt::format("'{}' needs a weight with at least 2 dimensions (fan in/out); for biases and BN "
                                  "parameters use one of: {}",
                                  type, join(kOneDimSchemes)));
  s.type = type;
  const std::string apath = path + "." + type;
  const std::vector<std::string>& allowed = scheme_args(type);
  if (args.IsDefined() && !args.IsNull()) {
    if (!args.IsMap())
      throw ConfigError(loc_of(args, file), apath,
                        fmt::format("expected a mapping of arguments{}, got {}",
                                    allowed.empty() ? " (none)" : " (" + join(allowed) + ")", describe(args)));
    if (allowed.empty() && args.size() > 0)
      throw ConfigError(loc_of(args.begin()->first, file), apath,
                        fmt::format("'{}' takes no arguments, got '{}'", type, args.begin()->first.Scalar()));
    check_keys(args, allowed, file, apath, "argument");
  } else {
    args = YAML::Node(YAML::NodeType::Map);
  }
  const YAML::Node& cargs = args;  // const access never adds entries
  auto any = [](double) { return true; };
  s.gain = get_number(cargs, "gain", apath, file, s.gain, any, "a number");
  s.mean = get_number(cargs, "mean", apath, file, s.mean, any, "a number");
  s.std = get_number(cargs, "std", apath, file, s.std, [](double v) { return v >= 0; }, "a number >= 0");
  s.value = get_number(cargs, "value", apath, file, s.value, any, "a number");
  if (type == "uniform") {
    s.a = get_number(cargs, "a", apath, file, 0.0, any, "a number");
    s.b = get_number(cargs, "b", apath, file, 1.0, any, "a number");
    if (s.a > s.b)
      throw ConfigError(loc_of(cargs["b"].IsDefined() ? cargs["b"] : cargs["a"], file), apath,
                        fmt::format("needs a <= b, got a = {} and b = {}", format_double(s.a), format_double(s.b)));
  } else {
    s.a = get_number(cargs, "a", apath, file, 0.0, any, "a number");
  }
  s.mode = get_choice(cargs, "mode", apath, file, s.mode, kModes);
  s.nonlinearity = get_choice(cargs, "nonlinearity", apath, file, s.nonlinearity, kNonlinearities);
  if (type == "constant" && !cargs["value"].IsDefined())
    throw ConfigError(loc_of(n, file), apath, "missing required argument 'value'");
  return s;
}

LsuvSpec parse_lsuv(const YAML::Node& n, const std::string& file) {
  LsuvSpec l;
  const std::string path = "init.lsuv";
  if (n.IsScalar()) {
    std::string v = n.Scalar();
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "true" || v == "yes" || v == "on") l.enabled = true;
    else if (v == "false" || v == "no" || v == "off") l.enabled = false;
    else
      throw ConfigError(loc_of(n, file), path,
                        fmt::format("expected true, false or a mapping {{batch, tol, iters}}, got {}", describe(n)));
    return l;
  }
  if (!n.IsMap())
    throw ConfigError(loc_of(n, file), path,
                      fmt::format("expected true, false or a mapping {{batch, tol, iters}}, got {}", describe(n)));
  check_keys(n, kLsuvKeys, file, path);
  l.enabled = true;
  auto integer = [&](const std::string& key, int64_t def, int64_t min) {
    const YAML::Node v = n[key];
    if (!v.IsDefined()) return def;
    int64_t x = 0;
    const std::string t = v.IsScalar() ? v.Scalar() : "";
    auto r = std::from_chars(t.data(), t.data() + t.size(), x);
    if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() || x < min)
      throw ConfigError(loc_of(v, file), path + "." + key,
                        fmt::format("expected an integer >= {}, got {}", min, shown(v)));
    return x;
  };
  l.batch = integer("batch", l.batch, 0);
  l.iters = integer("iters", l.iters, 1);
  l.tol = get_number(n, "tol", path, file, l.tol, [](double v) { return v > 0; }, "a number > 0");
  return l;
}

}  // namespace

const std::vector<std::string>& init_scheme_names() {
  static const std::vector<std::string> names = {
      "default",    "xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal",
      "constant",   "zeros",          "ones",          "normal",          "uniform"};
  return names;
}

InitSpec parse_init(const YAML::Node& init, const std::string& file, const std::vector<NodeSpec>& nodes) {
  InitSpec spec;
  if (!init.IsDefined() || init.IsNull()) return spec;
  if (!init.IsMap())
    throw ConfigError(loc_of(init, file), "init",
                      fmt::format("expected a mapping with any of: {}, got {}", join(kInitKeys), describe(init)));
  check_keys(init, kInitKeys, file, "init");
  const YAML::Node& c = init;
  for (auto [key, dst, one_dim] : {std::tuple{"conv", &spec.conv, false}, std::tuple{"linear", &spec.linear, false},
                                   std::tuple{"bias", &spec.bias, true}, std::tuple{"bn", &spec.bn, true}}) {
    const YAML::Node n = c[key];
    if (n.IsDefined() && !n.IsNull()) *dst = parse_scheme(n, file, std::string("init.") + key, one_dim);
  }
  if (const YAML::Node layers = c["layers"]; layers.IsDefined() && !layers.IsNull()) {
    if (!layers.IsMap())
      throw ConfigError(loc_of(layers, file), "init.layers",
                        fmt::format("expected a mapping of layer names to schemes, e.g. {{fc: zeros}}, got {}",
                                    describe(layers)));
    check_keys(layers, nullptr, file, "init.layers", "layer name");
    std::vector<std::string> node_names;
    for (const auto& ns : nodes) node_names.push_back(ns.name);
    auto is_node = [&](const std::string& s) {
      return std::find(node_names.begin(), node_names.end(), s) != node_names.end();
    };
    for (auto it = layers.begin(); it != layers.end(); ++it) {
      const std::string name = it->first.Scalar();
      const auto dot = name.rfind('.');
      if (!is_node(name) && !(dot != std::string::npos && is_node(name.substr(0, dot))))
        throw ConfigError(loc_of(it->first, file), "init.layers",
                          fmt::format("unknown layer '{}'{}: a key is a layer name (its weight) or "
                                      "'<layer>.<parameter>' (e.g. 'fc.bias')",
                                      name, did_you_mean(name, node_names)));
      spec.layers.emplace_back(name, parse_scheme(it->second, file, "init.layers." + name, false));
    }
  }
  if (const YAML::Node l = c["lsuv"]; l.IsDefined() && !l.IsNull()) spec.lsuv = parse_lsuv(l, file);
  return spec;
}

}  // namespace cnn::cfg
