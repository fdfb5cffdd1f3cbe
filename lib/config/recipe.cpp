#include "config/recipe.h"

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "config/drop_path_rate.h"
#include "config/model_build.h"
#include "config/overrides.h"
#include "config/recipe_field.h"
#include "config/yaml_util.h"

namespace cnn {

namespace {

namespace fs = std::filesystem;
using cfg::describe;
using cfg::loc_of;
using Reader = cfg::RecipeReader;

// `inline_model`: the model document to embed, or null to write the model path.
std::string emit_recipe(const Recipe& r, const YAML::Node& inline_model) {
  YAML::Emitter e;
  e << YAML::BeginMap;
  e << YAML::Key << "model" << YAML::Value;
  if (inline_model.IsMap())
    e << inline_model;
  else
    e << fs::absolute(r.model_path).lexically_normal().string();
  cfg::write_recipe_fields(e, r);
  e << YAML::EndMap;
  return std::string(e.c_str()) + "\n";
}

// `model_args: {classes: 5}` as overrides of the model document's `args:` (before --set model.*).
std::vector<cfg::Override> model_arg_overrides(const Reader& rd, const YAML::Node& doc) {
  std::vector<cfg::Override> out;
  const YAML::Node args = doc["model_args"];
  if (!args.IsDefined() || args.IsNull()) return out;
  if (!args.IsMap()) rd.fail(args, "model_args", "a mapping of model arguments, e.g. {classes: 5}");
  for (auto it = args.begin(); it != args.end(); ++it) {
    cfg::Override o;
    o.key = "args." + it->first.Scalar();
    o.text = "model_args." + it->first.Scalar();
    o.path = {"model", "args", it->first.Scalar()};
    o.value = cfg::detached_copy(it->second);
    out.push_back(std::move(o));
  }
  return out;
}

// Every key of model_args must be an argument the model declares.
void check_model_args(const Reader& rd, const YAML::Node& doc, const YAML::Node& mdoc) {
  const YAML::Node args = doc["model_args"];
  if (!args.IsDefined() || !args.IsMap()) return;
  const YAML::Node declared = mdoc.IsMap() ? static_cast<const YAML::Node&>(mdoc)["args"] : YAML::Node();
  std::vector<std::string> names;
  if (declared.IsDefined() && declared.IsMap())
    for (auto it = declared.begin(); it != declared.end(); ++it) names.push_back(it->first.Scalar());
  for (auto it = args.begin(); it != args.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (std::find(names.begin(), names.end(), k) == names.end())
      throw ConfigError(loc_of(it->first, rd.file()), "model_args." + k,
                        names.empty() ? std::string("the model declares no arguments (a top-level `args:`)")
                                      : fmt::format("the model has no argument '{}'{}; its arguments: {}", k,
                                                    cfg::did_you_mean(k, names), cfg::join(names)));
  }
}

// Does the recipe set the model's class count (model_args.classes, --set model.classes or
// model.args.classes)?
bool sets_classes(const std::vector<cfg::Override>& model_overrides) {
  for (const auto& o : model_overrides)
    if (o.path.back() == "classes" && (o.path.size() == 2 || (o.path.size() == 3 && o.path[1] == "args")))
      return true;
  return false;
}

Recipe load_recipe(const std::string& text, const std::string& file, const std::string& base_dir,
                   const std::vector<std::string>& override_texts) {
  std::vector<cfg::Override> overrides = cfg::parse_overrides(override_texts);
  std::vector<cfg::Override> model_overrides, recipe_overrides;
  for (auto& o : overrides)
    (o.path.size() > 1 && o.path[0] == "model" ? model_overrides : recipe_overrides).push_back(std::move(o));

  YAML::Node doc = cfg::parse_yaml(text, file);
  if (!doc.IsMap())
    throw ConfigError(SourceLoc{file, 0, 0}, "",
                      fmt::format("a recipe must be a mapping with at least 'model', got {}", describe(doc)));
  const cfg::Schema schema = cfg::recipe_schema();
  for (const auto& o : recipe_overrides) cfg::apply_override_with_schema(doc, o, schema, file);
  cfg::check_keys(doc, cfg::section_keys(""), file, "", "top-level key");

  Recipe r;
  Reader rd(file);
  r.source_text = text;
  r.source_name = file;
  r.base_dir = base_dir;
  r.overrides = override_texts;
  {
    std::vector<cfg::Override> from_recipe = model_arg_overrides(rd, doc);
    model_overrides.insert(model_overrides.begin(), from_recipe.begin(), from_recipe.end());
  }
  r.classes_set = sets_classes(model_overrides);

  // model: a path relative to the recipe's directory (or, from --set, to the working directory), or inline.
  const YAML::Node& cdoc = doc;  // const access never adds entries
  YAML::Node model = cdoc["model"];
  YAML::Node inline_model;  // null unless the resolved recipe embeds the model
  if (!model.IsDefined() || model.IsNull())
    throw ConfigError(SourceLoc{file, 0, 0}, "model", "missing required field: a model config path or an inline model");
  if (model.IsScalar()) {
    SourceLoc at = loc_of(model, file);
    fs::path p = model.Scalar();
    if (p.is_relative() && at.file != "--set" && !base_dir.empty()) p = fs::path(base_dir) / p;
    r.model_path = p.lexically_normal().string();
    std::string mtext;
    try {
      mtext = cfg::read_text_file(r.model_path, "model config");
    } catch (const ConfigError& e) {
      throw ConfigError(at, "model", e.what());
    }
    YAML::Node mdoc = cfg::parse_yaml(mtext, r.model_path);
    check_model_args(rd, doc, mdoc);
    cfg::apply_model_overrides(mdoc, model_overrides, 1, "model.");
    r.model = cfg::build_model(mdoc, r.model_path, model_overrides.empty() ? mtext : cfg::emit_yaml(mdoc),
                               fs::path(r.model_path).stem().string());
    if (!model_overrides.empty()) inline_model = cfg::detached_copy(mdoc);
  } else if (model.IsMap()) {
    check_model_args(rd, doc, model);
    cfg::apply_model_overrides(model, model_overrides, 1, "model.");
    std::string default_name = fs::path(file).stem().string();
    r.model = cfg::build_model(model, file, cfg::emit_yaml(model), default_name.empty() ? "model" : default_name);
    inline_model = cfg::detached_copy(model);
  } else {
    rd.fail(model, "model", "a model config path or an inline model mapping");
  }
  if (inline_model.IsMap() && !static_cast<const YAML::Node&>(inline_model)["name"].IsDefined())
    inline_model["name"] = r.model.name;

  cfg::read_recipe_fields(rd, doc, r);  // data, train, output, report
  cfg::apply_drop_path_rate(r.model, r.train.drop_path_rate);
  r.resolved_yaml = emit_recipe(r, inline_model);
  return r;
}

}  // namespace

Recipe load_recipe_file(const std::string& path, const std::vector<std::string>& overrides) {
  std::string text = cfg::read_text_file(path, "recipe");
  Recipe r = load_recipe(text, path, fs::path(path).parent_path().string(), overrides);
  r.file = path;
  return r;
}

Recipe load_recipe_string(const std::string& yaml_text, const std::string& name_for_errors, const std::string& base_dir,
                          const std::vector<std::string>& overrides) {
  Recipe r = load_recipe(yaml_text, name_for_errors, base_dir, overrides);
  r.file.clear();
  return r;
}

Recipe with_model_classes(const Recipe& recipe, int64_t classes) {
  if (recipe.classes_set || !recipe.model.has_arg("classes")) return recipe;
  std::vector<std::string> overrides = recipe.overrides;
  overrides.push_back(fmt::format("model.args.classes={}", classes));
  Recipe r = load_recipe(recipe.source_text, recipe.source_name, recipe.base_dir, overrides);
  r.file = recipe.file;
  r.output = recipe.output;  // set after loading by --resume (the run's own directory)
  r.classes_from_data = true;
  return r;
}

}  // namespace cnn
