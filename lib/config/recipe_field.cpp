#include "config/recipe_field.h"

#include <algorithm>

#include <fmt/format.h>

#include "config/yaml_util.h"

namespace cnn::cfg {

namespace {

RecipeField leaf(const std::string& path, FieldRead read, FieldWrite write) {
  RecipeField f;
  f.path = path;
  const size_t dot = path.rfind('.');
  f.key = dot == std::string::npos ? path : path.substr(dot + 1);
  f.parent = dot == std::string::npos ? "" : path.substr(0, dot);
  f.read = std::move(read);
  f.write = std::move(write);
  return f;
}

const RecipeField* find_field(const std::string& path) {
  for (const RecipeField& f : recipe_fields())
    if (f.path == path) return &f;
  return nullptr;
}

bool is_variant_field(const FieldVariants& variants, const std::string& key) {
  for (const auto& [type, keys] : variants)
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) return true;
  return false;
}

void read_section(const RecipeReader& rd, const YAML::Node& sec, const std::string& parent, Recipe& r) {
  for (const RecipeField& f : recipe_fields()) {
    if (f.parent != parent) continue;
    if (f.is_section)
      read_section(rd, rd.section(sec, f.key, f.path, section_keys(f.path)), f.path, r);
    else if (f.read)
      f.read(rd, sec, f, r);
    if (f.then) f.then(rd, sec, r);
  }
}

void write_section(YAML::Emitter& e, const Recipe& r, const std::string& parent, int depth);

void write_field(YAML::Emitter& e, const Recipe& r, const RecipeField& f, int depth) {
  if ((!f.write && !f.is_section) || (f.written_if && !f.written_if(r))) return;
  e << YAML::Key << f.key << YAML::Value;
  if (!f.is_section) {
    f.write(e, r);
    return;
  }
  if (depth > 0) e << YAML::Flow;  // data:, train: as blocks; the sections inside them on one line
  e << YAML::BeginMap;
  write_section(e, r, f.path, depth + 1);
  e << YAML::EndMap;
}

// Table order, except that a section with variants writes the fields of its type together, in the
// type's order, where the first type-specific field would be (the others are not written).
void write_section(YAML::Emitter& e, const Recipe& r, const std::string& parent, int depth) {
  const RecipeField* sec = parent.empty() ? nullptr : find_field(parent);
  const FieldVariants* variants = sec ? sec->variants : nullptr;
  bool variant_written = false;
  for (const RecipeField& f : recipe_fields()) {
    if (f.parent != parent) continue;
    if (!variants || !is_variant_field(*variants, f.key)) {
      write_field(e, r, f, depth);
      continue;
    }
    if (variant_written) continue;
    variant_written = true;
    const std::string& type = sec->variant_type(r);
    for (const auto& [t, keys] : *variants)
      if (t == type)
        for (const std::string& k : keys) write_field(e, r, *find_field(parent + "." + k), depth);
  }
}

Schema schema_of(const std::string& parent) {
  Schema s;
  for (const RecipeField& f : recipe_fields()) {
    if (f.parent != parent) continue;
    Schema& child = s.fields[f.key];
    if (f.is_section) child = schema_of(f.path);
    child.open = f.open;
  }
  return s;
}

}  // namespace

RecipeField RecipeField::when(bool (*f)(const Recipe&)) const {
  RecipeField c = *this;
  c.written_if = f;
  return c;
}

RecipeField RecipeField::and_then(FieldThen f) const {
  RecipeField c = *this;
  c.then = f;
  return c;
}

RecipeField RecipeField::open_below() const {
  RecipeField c = *this;
  c.open = true;
  return c;
}

RecipeField integer(const std::string& path, FieldRef<int64_t> at, int64_t min) {
  return leaf(
      path,
      [at, min](const RecipeReader& rd, const YAML::Node& sec, const RecipeField& f, Recipe& r) {
        at(r) = rd.get_int(sec, f.key, f.path, at(r), min);
      },
      [at](YAML::Emitter& e, const Recipe& r) { e << field_value(at, r); });
}

RecipeField uinteger(const std::string& path, FieldRef<uint64_t> at) {
  return leaf(
      path,
      [at](const RecipeReader& rd, const YAML::Node& sec, const RecipeField& f, Recipe& r) {
        at(r) = rd.get_uint(sec, f.key, f.path, at(r));
      },
      [at](YAML::Emitter& e, const Recipe& r) { e << field_value(at, r); });
}

RecipeField number(const std::string& path, FieldRef<double> at, bool (*ok)(double), const std::string& expected) {
  return leaf(
      path,
      [at, ok, expected](const RecipeReader& rd, const YAML::Node& sec, const RecipeField& f, Recipe& r) {
        at(r) = rd.get_number(sec, f.key, f.path, at(r), ok, expected);
      },
      [at](YAML::Emitter& e, const Recipe& r) { e << format_double(field_value(at, r)); });
}

RecipeField boolean(const std::string& path, FieldRef<bool> at) {
  return leaf(
      path,
      [at](const RecipeReader& rd, const YAML::Node& sec, const RecipeField& f, Recipe& r) {
        at(r) = rd.get_bool(sec, f.key, f.path, at(r));
      },
      [at](YAML::Emitter& e, const Recipe& r) { e << (field_value(at, r) ? "true" : "false"); });
}

RecipeField text(const std::string& path, FieldRef<std::string> at) {
  return leaf(
      path,
      [at](const RecipeReader& rd, const YAML::Node& sec, const RecipeField& f, Recipe& r) {
        at(r) = rd.get_string(sec, f.key, f.path, at(r));
      },
      [at](YAML::Emitter& e, const Recipe& r) { e << field_value(at, r); });
}

RecipeField choice_of(const std::string& path, const std::vector<std::string>& options, const std::string& what,
                      std::function<std::string(const Recipe&)> current, std::function<void(Recipe&, size_t)> set) {
  return leaf(
      path,
      [options, what, current, set](const RecipeReader& rd, const YAML::Node& sec, const RecipeField& f, Recipe& r) {
        const std::string v = rd.get_string(sec, f.key, f.path, current(r));
        const auto it = std::find(options.begin(), options.end(), v);
        if (it == options.end())
          throw ConfigError(loc_of(sec[f.key], rd.file()), f.path,
                            fmt::format("unknown {} '{}'{}; supported: {}", what, v, did_you_mean(v, options),
                                        join(options)));
        set(r, size_t(it - options.begin()));
      },
      [current](YAML::Emitter& e, const Recipe& r) { e << current(r); });
}

RecipeField choice(const std::string& path, FieldRef<std::string> at, const std::vector<std::string>& options,
                   const std::string& what) {
  return choice_of(
      path, options, what, [at](const Recipe& r) { return field_value(at, r); },
      [at, options](Recipe& r, size_t i) { at(r) = options[i]; });
}

RecipeField names(const std::string& path, FieldRef<std::vector<std::string>> at, const std::string& expected) {
  return leaf(
      path,
      [at, expected](const RecipeReader& rd, const YAML::Node& sec, const RecipeField& f, Recipe& r) {
        const YAML::Node n = sec[f.key];
        if (!n.IsDefined() || n.IsNull()) return;
        std::vector<std::string> out;
        if (n.IsScalar()) {
          if (n.Scalar().empty()) rd.fail(n, f.path, expected);
          out.push_back(n.Scalar());
        } else {
          if (!n.IsSequence()) rd.fail(n, f.path, expected);
          for (const auto& item : n) {
            if (!item.IsScalar() || item.Scalar().empty()) rd.fail(n, f.path, expected);
            out.push_back(item.Scalar());
          }
        }
        at(r) = std::move(out);
      },
      [at](YAML::Emitter& e, const Recipe& r) {
        e << YAML::Flow << YAML::BeginSeq;
        for (const auto& s : field_value(at, r)) e << s;
        e << YAML::EndSeq;
      });
}

RecipeField section(const std::string& path, const FieldVariants* variants, VariantType variant_type) {
  RecipeField f = leaf(path, nullptr, nullptr);
  f.is_section = true;
  f.variants = variants;
  f.variant_type = variant_type;
  return f;
}

RecipeField custom(const std::string& path, FieldRead read, FieldWrite write) {
  return leaf(path, std::move(read), std::move(write));
}

std::vector<std::string> section_keys(const std::string& parent) {
  std::vector<std::string> out;
  for (const RecipeField& f : recipe_fields())
    if (f.parent == parent) out.push_back(f.key);
  return out;
}

Schema recipe_schema() { return schema_of(""); }

void read_recipe_fields(const RecipeReader& rd, const YAML::Node& doc, Recipe& r) { read_section(rd, doc, "", r); }

void write_recipe_fields(YAML::Emitter& e, const Recipe& r) { write_section(e, r, "", 0); }

}  // namespace cnn::cfg
