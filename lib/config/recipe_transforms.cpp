#include "config/recipe_transforms.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "config/yaml_util.h"

namespace cnn::cfg {

namespace {

const std::vector<std::string> kNames = {"normalize",   "random_crop",         "hflip",        "resize",
                                         "center_crop", "random_resized_crop", "color_jitter", "random_erasing",
                                         "cutout",      "randaugment",         "trivialaugment", "autoaugment"};
const std::vector<std::string> kByte = {"random_crop",  "hflip",       "resize",         "center_crop", "random_resized_crop",
                                        "color_jitter", "randaugment", "trivialaugment", "autoaugment"};
// The automatic augmentation policies: at most one per list.
const std::vector<std::string> kAutoAugment = {"randaugment", "trivialaugment", "autoaugment"};
const std::vector<std::string> kPolicyNames = {"imagenet", "cifar10", "svhn"};  // AutoAugmentPolicy order

// Argument names of each transform; `required` ones have no default.
struct ArgTable {
  std::string type;
  std::vector<std::string> args;
  std::vector<std::string> required;
};
const std::vector<ArgTable> kArgs = {
    {"normalize", {"mean", "std"}, {"mean", "std"}},
    {"random_crop", {"size", "pad"}, {"size"}},
    {"hflip", {"p"}, {}},
    {"resize", {"size"}, {"size"}},
    {"center_crop", {"size"}, {"size"}},
    {"random_resized_crop", {"size", "scale", "ratio"}, {"size"}},
    {"color_jitter", {"brightness", "contrast", "saturation"}, {}},
    {"random_erasing", {"p", "scale", "ratio", "value"}, {}},
    {"cutout", {"size", "p"}, {"size"}},
    {"randaugment", {"num_ops", "magnitude", "num_magnitude_bins"}, {}},
    {"trivialaugment", {"num_magnitude_bins"}, {}},
    {"autoaugment", {"policy"}, {}},
};

const ArgTable& table_of(const std::string& type) {
  for (const auto& t : kArgs)
    if (t.type == type) return t;
  return kArgs[0];
}

bool parse_double(const std::string& s, double& v) {
  std::string t = !s.empty() && s[0] == '+' ? s.substr(1) : s;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size() && std::isfinite(v);
}

bool parse_int(const std::string& s, int64_t& v) {
  std::string t = !s.empty() && s[0] == '+' ? s.substr(1) : s;
  auto r = std::from_chars(t.data(), t.data() + t.size(), v);
  return !t.empty() && r.ec == std::errc() && r.ptr == t.data() + t.size();
}

std::string shown(const YAML::Node& n) {
  double d = 0;
  if (n.IsScalar() && parse_double(n.Scalar(), d)) return n.Scalar();
  return describe(n);
}

class ArgReader {
 public:
  ArgReader(const YAML::Node& args, const std::string& path, const std::string& file)
      : args_(args), path_(path), file_(file) {}

  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& expected) const {
    throw ConfigError(loc_of(n, file_), path_ + "." + key, fmt::format("expected {}, got {}", expected, shown(n)));
  }
  bool has(const std::string& key) const { return args_.IsMap() && args_[key].IsDefined(); }
  YAML::Node node(const std::string& key) const { return args_[key]; }

  // Numbers as a list (a single number is a list of one).
  std::vector<double> numbers(const std::string& key, const std::string& expected, size_t min_n, size_t max_n) const {
    const YAML::Node n = args_[key];
    std::vector<double> out;
    auto one = [&](const YAML::Node& item) {
      double v = 0;
      if (!item.IsScalar() || !parse_double(item.Scalar(), v)) fail(n, key, expected);
      out.push_back(v);
    };
    if (n.IsSequence())
      for (const auto& item : n) one(item);
    else
      one(n);
    if (out.size() < min_n || out.size() > max_n) fail(n, key, expected);
    return out;
  }

  // An image size: s or [h, w], positive integers.
  std::vector<int64_t> size(const std::string& key) const {
    const YAML::Node n = args_[key];
    const std::string expected = "a size: an integer > 0 or a list [height, width]";
    std::vector<int64_t> out;
    auto one = [&](const YAML::Node& item) {
      int64_t v = 0;
      if (!item.IsScalar() || !parse_int(item.Scalar(), v) || v < 1 || v > 100000) fail(n, key, expected);
      out.push_back(v);
    };
    if (n.IsSequence())
      for (const auto& item : n) one(item);
    else
      one(n);
    if (out.empty() || out.size() > 2) fail(n, key, expected);
    return out;
  }

  double number(const std::string& key, double def, bool (*ok)(double), const std::string& expected) const {
    if (!has(key)) return def;
    const YAML::Node n = args_[key];
    double v = 0;
    if (!n.IsScalar() || !parse_double(n.Scalar(), v) || !ok(v)) fail(n, key, expected);
    return v;
  }

  int64_t integer(const std::string& key, int64_t def, int64_t min) const {
    if (!has(key)) return def;
    const YAML::Node n = args_[key];
    int64_t v = 0;
    if (!n.IsScalar() || !parse_int(n.Scalar(), v) || v < min) fail(n, key, fmt::format("an integer >= {}", min));
    return v;
  }

  // [lo, hi] with lo <= hi, both checked by `ok`.
  void range(const std::string& key, double out[2], bool (*ok)(double), const std::string& expected) const {
    if (!has(key)) return;
    std::vector<double> v = numbers(key, expected, 2, 2);
    if (!ok(v[0]) || !ok(v[1]) || v[0] > v[1]) fail(args_[key], key, expected);
    out[0] = v[0], out[1] = v[1];
  }

  // color_jitter: b >= 0 means [max(0, 1 - b), 1 + b] (torchvision); or [lo, hi], 0 <= lo <= hi.
  void jitter(const std::string& key, double out[2]) const {
    if (!has(key)) return;
    const std::string expected = "a number >= 0 (factor range [max(0, 1 - x), 1 + x]) or a range [lo, hi] with 0 <= lo <= hi";
    std::vector<double> v = numbers(key, expected, 1, 2);
    if (v.size() == 1) {
      if (v[0] < 0) fail(args_[key], key, expected);
      out[0] = std::max(0.0, 1 - v[0]), out[1] = 1 + v[0];
    } else {
      if (v[0] < 0 || v[0] > v[1]) fail(args_[key], key, expected);
      out[0] = v[0], out[1] = v[1];
    }
  }

 private:
  const YAML::Node& args_;
  const std::string& path_;
  const std::string& file_;
};

bool positive(double v) { return v > 0; }
bool prob(double v) { return v >= 0 && v <= 1; }
bool any_number(double) { return true; }
bool area_fraction(double v) { return v > 0 && v <= 1; }

// randaugment / trivialaugment / autoaugment arguments (torchvision's defaults).
void parse_auto_augment(const ArgReader& rd, TransformSpec& t) {
  if (t.type == "randaugment") t.num_ops = rd.integer("num_ops", 2, 0);
  if (t.type != "autoaugment") {
    t.num_magnitude_bins = rd.integer("num_magnitude_bins", 31, 2);
  }
  if (t.type == "randaugment") {
    t.magnitude = rd.integer("magnitude", 9, 0);
    if (t.magnitude >= t.num_magnitude_bins)
      rd.fail(rd.node("magnitude"), "magnitude",
              fmt::format("a bin in [0, {}] (below num_magnitude_bins = {})", t.num_magnitude_bins - 1,
                          t.num_magnitude_bins));
  }
  if (t.type == "autoaugment" && rd.has("policy")) {
    const YAML::Node n = rd.node("policy");
    const std::string name = n.IsScalar() ? n.Scalar() : "";
    const auto it = std::find(kPolicyNames.begin(), kPolicyNames.end(), name);
    if (it == kPolicyNames.end()) rd.fail(n, "policy", "a policy: " + join(kPolicyNames, " | "));
    t.policy = AutoAugmentPolicy(it - kPolicyNames.begin());
  }
}

void emit_auto_augment(YAML::Emitter& e, const TransformSpec& t) {
  if (t.type == "randaugment") {
    e << YAML::Key << "num_ops" << YAML::Value << t.num_ops;
    e << YAML::Key << "magnitude" << YAML::Value << t.magnitude;
  }
  if (t.type != "autoaugment") e << YAML::Key << "num_magnitude_bins" << YAML::Value << t.num_magnitude_bins;
  if (t.type == "autoaugment") e << YAML::Key << "policy" << YAML::Value << kPolicyNames[size_t(t.policy)];
}

TransformSpec parse_one(const YAML::Node& item, const std::string& ipath, const std::string& file) {
  std::string type;
  YAML::Node args, type_node;
  type_node.reset(item);
  if (item.IsScalar()) {
    type = item.Scalar();
  } else if (item.IsMap() && item.size() == 1) {
    type_node.reset(item.begin()->first);
    type = type_node.Scalar();
    args.reset(item.begin()->second);
  } else {
    throw ConfigError(loc_of(item, file), ipath,
                      fmt::format("expected a transform: a name or a mapping {{name: {{args}}}}, got {}", describe(item)));
  }
  if (std::find(kNames.begin(), kNames.end(), type) == kNames.end())
    throw ConfigError(loc_of(type_node, file), ipath,
                      fmt::format("unknown transform '{}'{}; known: {}", type, did_you_mean(type, kNames), join(kNames)));
  if (type == "autoaugment" && args.IsScalar()) {  // the shorthand {autoaugment: cifar10}
    YAML::Node policy = args;
    args.reset(YAML::Node(YAML::NodeType::Map));
    args["policy"] = policy;
  }
  TransformSpec t;
  t.type = type;
  const std::string apath = ipath + "." + type;
  const ArgTable& table = table_of(type);
  const YAML::Node& cargs = args;
  if (cargs.IsDefined() && !cargs.IsNull() && !cargs.IsMap())
    throw ConfigError(loc_of(cargs, file), apath,
                      fmt::format("expected a mapping of arguments ({}), got {}", join(table.args), describe(cargs)));
  if (cargs.IsMap()) check_keys(cargs, table.args, file, apath);
  for (const auto& k : table.required)
    if (!cargs.IsMap() || !cargs[k].IsDefined())
      throw ConfigError(loc_of(cargs.IsMap() ? cargs : type_node, file), apath,
                        fmt::format("missing required argument '{}'", k));
  const ArgReader rd(cargs, apath, file);

  if (type == "normalize") {
    t.mean = rd.numbers("mean", "a list of numbers", 1, 4096);
    t.std = rd.numbers("std", "a list of numbers > 0", 1, 4096);
    for (double s : t.std)
      if (!(s > 0)) rd.fail(cargs["std"], "std", "a list of numbers > 0");
    if (t.mean.size() != t.std.size())
      throw ConfigError(loc_of(cargs["std"], file), apath,
                        fmt::format("'mean' has {} values but 'std' has {}: give one per channel", t.mean.size(),
                                    t.std.size()));
  } else if (type == "random_crop") {
    t.size = rd.size("size");
    t.pad = rd.integer("pad", 0, 0);
  } else if (type == "hflip") {
    t.p = rd.number("p", 0.5, prob, "a probability in [0, 1]");
  } else if (type == "resize" || type == "center_crop") {
    t.size = rd.size("size");
  } else if (type == "random_resized_crop") {
    t.size = rd.size("size");
    rd.range("scale", t.scale, area_fraction, "a range [lo, hi] of area fractions, 0 < lo <= hi <= 1");
    rd.range("ratio", t.ratio, positive, "a range [lo, hi] of aspect ratios (width / height), 0 < lo <= hi");
  } else if (type == "color_jitter") {
    rd.jitter("brightness", t.brightness);
    rd.jitter("contrast", t.contrast);
    rd.jitter("saturation", t.saturation);
  } else if (type == "random_erasing") {
    t.scale[0] = 0.02, t.scale[1] = 0.33, t.ratio[0] = 0.3, t.ratio[1] = 3.3;
    t.p = rd.number("p", 0.5, prob, "a probability in [0, 1]");
    rd.range("scale", t.scale, area_fraction, "a range [lo, hi] of area fractions, 0 < lo <= hi <= 1");
    rd.range("ratio", t.ratio, positive, "a range [lo, hi] of aspect ratios (width / height), 0 < lo <= hi");
    t.value = rd.number("value", 0.0, any_number, "a number");
  } else if (type == "cutout") {
    t.size = rd.size("size");
    if (t.size.size() != 1) rd.fail(cargs["size"], "size", "an integer > 0 (the side of the square)");
    t.p = rd.number("p", 1.0, prob, "a probability in [0, 1]");
  } else if (is_auto_augment(type)) {
    parse_auto_augment(rd, t);
  }
  return t;
}

void emit_size(YAML::Emitter& e, const std::vector<int64_t>& size) {
  if (size.size() == 1) {
    e << size[0];
    return;
  }
  e << YAML::Flow << YAML::BeginSeq;
  for (int64_t v : size) e << v;
  e << YAML::EndSeq;
}

void emit_pair(YAML::Emitter& e, const double v[2]) {
  e << YAML::Flow << YAML::BeginSeq << format_double(v[0]) << format_double(v[1]) << YAML::EndSeq;
}

}  // namespace

const std::vector<std::string>& transform_names() { return kNames; }

bool is_byte_transform(const std::string& type) { return std::find(kByte.begin(), kByte.end(), type) != kByte.end(); }

bool is_auto_augment(const std::string& type) {
  return std::find(kAutoAugment.begin(), kAutoAugment.end(), type) != kAutoAugment.end();
}

std::vector<TransformSpec> parse_transforms(const YAML::Node& data, const std::string& key, const std::string& file) {
  std::vector<TransformSpec> out;
  const std::string path = "data." + key;
  const YAML::Node list = data[key];
  if (!list.IsDefined() || list.IsNull()) return out;
  if (!list.IsSequence())
    throw ConfigError(loc_of(list, file), path,
                      fmt::format("expected a list of transforms, e.g. [hflip, {{normalize: {{mean: [0.5], std: [0.5]}}}}], "
                                  "got {}",
                                  shown(list)));
  std::string first_float;  // the first float-stage transform seen
  std::string auto_policy;  // the automatic augmentation seen, with its index
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ipath = path + "." + std::to_string(i);
    TransformSpec t = parse_one(list[i], ipath, file);
    if (is_byte_transform(t.type) && !first_float.empty())
      throw ConfigError(loc_of(list[i], file), ipath,
                        fmt::format("'{}' works on 8-bit images and must come before '{}' (the float steps normalize, "
                                    "random_erasing and cutout come last)",
                                    t.type, first_float));
    if (!is_byte_transform(t.type) && first_float.empty()) first_float = t.type;
    if (is_auto_augment(t.type)) {
      if (!auto_policy.empty())
        throw ConfigError(loc_of(list[i], file), ipath,
                          fmt::format("'{}' and {} are both automatic augmentation policies; use one of randaugment, "
                                      "trivialaugment, autoaugment per list",
                                      t.type, auto_policy));
      auto_policy = fmt::format("'{}' ({}.{})", t.type, path, i);
    }
    out.push_back(std::move(t));
  }
  return out;
}

void emit_transforms(YAML::Emitter& e, const std::vector<TransformSpec>& ts) {
  e << YAML::Flow << YAML::BeginSeq;
  for (const auto& t : ts) {
    e << YAML::BeginMap << YAML::Key << t.type << YAML::Value << YAML::BeginMap;
    if (t.type == "normalize") {
      for (auto [k, v] : {std::pair{"mean", &t.mean}, std::pair{"std", &t.std}}) {
        e << YAML::Key << k << YAML::Value << YAML::BeginSeq;
        for (double x : *v) e << format_double(x);
        e << YAML::EndSeq;
      }
    } else if (t.type == "random_crop") {
      e << YAML::Key << "size" << YAML::Value;
      emit_size(e, t.size);
      e << YAML::Key << "pad" << YAML::Value << t.pad;
    } else if (t.type == "hflip") {
      e << YAML::Key << "p" << YAML::Value << format_double(t.p);
    } else if (t.type == "resize" || t.type == "center_crop") {
      e << YAML::Key << "size" << YAML::Value;
      emit_size(e, t.size);
    } else if (t.type == "random_resized_crop") {
      e << YAML::Key << "size" << YAML::Value;
      emit_size(e, t.size);
      e << YAML::Key << "scale" << YAML::Value;
      emit_pair(e, t.scale);
      e << YAML::Key << "ratio" << YAML::Value;
      emit_pair(e, t.ratio);
    } else if (t.type == "color_jitter") {
      e << YAML::Key << "brightness" << YAML::Value;
      emit_pair(e, t.brightness);
      e << YAML::Key << "contrast" << YAML::Value;
      emit_pair(e, t.contrast);
      e << YAML::Key << "saturation" << YAML::Value;
      emit_pair(e, t.saturation);
    } else if (t.type == "random_erasing") {
      e << YAML::Key << "p" << YAML::Value << format_double(t.p);
      e << YAML::Key << "scale" << YAML::Value;
      emit_pair(e, t.scale);
      e << YAML::Key << "ratio" << YAML::Value;
      emit_pair(e, t.ratio);
      e << YAML::Key << "value" << YAML::Value << format_double(t.value);
    } else if (t.type == "cutout") {
      e << YAML::Key << "size" << YAML::Value;
      emit_size(e, t.size);
      e << YAML::Key << "p" << YAML::Value << format_double(t.p);
    } else if (is_auto_augment(t.type)) {
      emit_auto_augment(e, t);
    }
    e << YAML::EndMap << YAML::EndMap;
  }
  e << YAML::EndSeq;
}

}  // namespace cnn::cfg
