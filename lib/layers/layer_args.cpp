#include "layers/layer_args.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace cnn {

namespace {

// Layer sizes, kernels, paddings and strides beyond 2^31 are never meant; bounding them keeps the
// layers' shape arithmetic (e.g. H + 2 * pad - dilation * (k - 1)) far from overflow.
constexpr int64_t kMaxLayerInt = (int64_t(1) << 31) - 1;

bool parse_int(std::string s, int64_t& out) {
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && out <= kMaxLayerInt && out >= -kMaxLayerInt;
}

// " (too large: ...)" when `s` is an integer out of the layers' range, else "".
std::string range_note(const std::vector<std::string>& items) {
  for (std::string s : items) {
    if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.erase(0, 1);
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() >= 10) {
      int64_t v = 0;
      if (!parse_int(s, v)) return fmt::format(" (too large: layer arguments are at most {})", kMaxLayerInt);
    }
  }
  return "";
}

bool parse_float(std::string s, double& out) {
  if (!s.empty() && s[0] == '+') s.erase(0, 1);
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
}

bool parse_bool(std::string s, bool& out) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s == "true" || s == "yes" || s == "on" || s == "1") return out = true, true;
  if (s == "false" || s == "no" || s == "off" || s == "0") return out = false, true;
  return false;
}

std::string show(const ArgValue& v) {
  if (!v.is_list) return "'" + (v.items.empty() ? std::string() : v.items[0]) + "'";
  std::string out = "[";
  for (size_t i = 0; i < v.items.size(); ++i) out += (i ? ", " : "") + v.items[i];
  return out + "]";
}

// closest_match, or else the longest accepted key that starts the word or that the word starts
// ("kernel" -> "k", "padding" -> "pad", "out_channels" -> "out").
std::string suggestion(const std::string& word, const std::vector<std::string>& accepted) {
  std::string m = closest_match(word, accepted);
  if (!m.empty()) return m;
  for (const auto& a : accepted) {
    bool prefix = word.rfind(a, 0) == 0 || (word.size() >= 2 && a.rfind(word, 0) == 0);
    if (prefix && a.size() > m.size()) m = a;
  }
  return m;
}

std::string plural(size_t n, const char* word) { return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s"); }

}  // namespace

const ArgValue* LayerArgs::find(const std::string& key) const {
  if (std::find(used_.begin(), used_.end(), key) == used_.end()) used_.push_back(key);
  auto it = values_.find(key);
  return it == values_.end() ? nullptr : &it->second;
}

int64_t LayerArgs::get_int(const std::string& key) const {
  if (!find(key)) fail(fmt::format("missing required argument '{}' for layer type '{}'", key, type_));
  return get_int(key, 0);
}

int64_t LayerArgs::get_int(const std::string& key, int64_t def) const {
  const ArgValue* v = find(key);
  if (!v) return def;
  int64_t out = 0;
  if (v->is_list || v->items.size() != 1 || !parse_int(v->items[0], out))
    throw ConfigError(v->loc, path_,
                      fmt::format("field '{}' expects an integer, got {}{}", key, show(*v), range_note(v->items)));
  return out;
}

double LayerArgs::get_float(const std::string& key) const {
  if (!find(key)) fail(fmt::format("missing required argument '{}' for layer type '{}'", key, type_));
  return get_float(key, 0.0);
}

double LayerArgs::get_float(const std::string& key, double def) const {
  const ArgValue* v = find(key);
  if (!v) return def;
  double out = 0;
  if (v->is_list || v->items.size() != 1 || !parse_float(v->items[0], out))
    throw ConfigError(v->loc, path_, fmt::format("field '{}' expects a number, got {}", key, show(*v)));
  return out;
}

bool LayerArgs::get_bool(const std::string& key, bool def) const {
  const ArgValue* v = find(key);
  if (!v) return def;
  bool out = false;
  if (v->is_list || v->items.size() != 1 || !parse_bool(v->items[0], out))
    throw ConfigError(v->loc, path_,
                      fmt::format("field '{}' expects true or false, got {}", key, show(*v)));
  return out;
}

std::string LayerArgs::get_string(const std::string& key, const std::string& def) const {
  const ArgValue* v = find(key);
  if (!v) return def;
  if (v->is_list || v->items.size() != 1)
    throw ConfigError(v->loc, path_, fmt::format("field '{}' expects a string, got {}", key, show(*v)));
  return v->items[0];
}

std::vector<int64_t> LayerArgs::get_ints(const std::string& key, size_t n, const std::vector<int64_t>& def) const {
  const ArgValue* v = find(key);
  if (!v) return def;
  auto bad = [&]() {
    std::string expect = n == 0 ? "a list of integers" : "a list of " + plural(n, "integer");
    throw ConfigError(v->loc, path_, fmt::format("field '{}' expects an integer or {}, got {}{}", key, expect, show(*v),
                                                 range_note(v->items)));
  };
  std::vector<int64_t> out;
  for (const auto& item : v->items) {
    int64_t x = 0;
    if (!parse_int(item, x)) bad();
    out.push_back(x);
  }
  if (!v->is_list) {
    if (out.size() != 1) bad();
    out.assign(n == 0 ? 1 : n, out[0]);
  } else if ((n != 0 && out.size() != n) || out.empty()) {
    bad();
  }
  return out;
}

std::vector<double> LayerArgs::get_floats(const std::string& key, const std::vector<double>& def) const {
  const ArgValue* v = find(key);
  if (!v) return def;
  std::vector<double> out;
  for (const auto& item : v->items) {
    double x = 0;
    if (!parse_float(item, x))
      throw ConfigError(v->loc, path_,
                        fmt::format("field '{}' expects a number or a list of numbers, got {}", key, show(*v)));
    out.push_back(x);
  }
  if (out.empty())
    throw ConfigError(v->loc, path_, fmt::format("field '{}' expects a number or a non-empty list of numbers, got []", key));
  return out;
}

void LayerArgs::finish() const {
  for (const auto& [key, value] : values_) {
    if (std::find(used_.begin(), used_.end(), key) != used_.end()) continue;
    std::vector<std::string> accepted = used_;
    std::sort(accepted.begin(), accepted.end());
    std::string msg = fmt::format("unknown argument '{}' for layer type '{}'", key, type_);
    std::string m = suggestion(key, accepted);
    if (!m.empty()) msg += " (did you mean '" + m + "'?)";
    if (accepted.empty()) {
      msg += "; it takes no arguments";
    } else {
      msg += "; accepted: ";
      for (size_t i = 0; i < accepted.size(); ++i) msg += (i ? ", " : "") + accepted[i];
    }
    throw ConfigError(value.loc, path_, msg);
  }
}

void LayerArgs::fail(const std::string& message) const { throw ConfigError(loc_, path_, message); }

void LayerArgs::fail(const std::string& key, const std::string& message) const {
  auto it = values_.find(key);
  throw ConfigError(it == values_.end() ? loc_ : it->second.loc, path_, "field '" + key + "': " + message);
}

}  // namespace cnn
