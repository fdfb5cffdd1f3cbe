#pragma once
// The recipe field table. Every recipe field is one line of recipe_fields() (recipe_fields.cpp):
// its dotted path, where it lives in the Recipe struct, how it is checked. That one line drives
//   - reading: the keys each section accepts (unknown keys are errors naming file:line:col and the
//     key, with "did you mean"), the typed read with its error text;
//   - the resolved recipe (Recipe::resolved_yaml, a run's config.yaml): every field written back;
//   - `--set`: the keys it may name (recipe_schema()), including fields absent from the file.
// Defaults are the Recipe struct's member initializers (recipe.h); a line's `then` hook may set a
// default that depends on an earlier field (data.root on data.dataset, optimizer.lr on its type).
//
// Adding a field: a member with its default in recipe.h, one line in recipe_fields() (e.g.
//   number("train.drop_path_rate", CNN_RECIPE_AT(train.drop_path_rate), in_0_1_open, "a number in [0, 1) (0: off)"),
// and its row in docs/config.md (tests/config/test_recipe_fields.cpp checks that the row exists).
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/overrides.h"
#include "config/recipe.h"
#include "config/recipe_reader.h"

namespace cnn::cfg {

// Where a field lives in the Recipe: written in the table as CNN_RECIPE_AT(train.epochs).
template <class T>
using FieldRef = T& (*)(Recipe&);
#define CNN_RECIPE_AT(member) [](::cnn::Recipe& recipe_) -> auto& { return recipe_.member; }

// The value a FieldRef names, read-only (the accessor only forms a reference; nothing is written).
template <class T>
const T& field_value(FieldRef<T> at, const Recipe& r) {
  return at(const_cast<Recipe&>(r));
}

struct RecipeField;
// Reads the field from `section` (the mapping that holds its key) into the recipe; absent: the
// value stays as it is (the default).
using FieldRead = std::function<void(const RecipeReader&, const YAML::Node& section, const RecipeField&, Recipe&)>;
// Writes the field's value (the key is written by the caller).
using FieldWrite = std::function<void(YAML::Emitter&, const Recipe&)>;
// Runs after the field was read (present or not), with the same section: checks across fields,
// defaults of later fields.
using FieldThen = void (*)(const RecipeReader&, const YAML::Node& section, Recipe&);
// Sections whose `type` selects the fields that apply (optimizer, schedule): type -> its fields,
// in the order they are written. Fields of no type are common to all.
using FieldVariants = std::vector<std::pair<std::string, std::vector<std::string>>>;
// The name of the type such a section has in a recipe.
using VariantType = const std::string& (*)(const Recipe&);

struct RecipeField {
  std::string path;                     // dotted: "train.optimizer.lr"
  std::string key;                      // its last segment: "lr"
  std::string parent;                   // the section: "train.optimizer" ("" at the top level)
  bool is_section = false;              // a mapping of the fields whose parent is this path
  bool open = false;                    // --set may go below it where the document has the path (lists)
  FieldRead read;                       // null: read by load_recipe itself (model, model_args)
  FieldWrite write;                     // null: not written into the resolved recipe
  bool (*written_if)(const Recipe&) = nullptr;  // null: always written
  FieldThen then = nullptr;
  const FieldVariants* variants = nullptr;      // sections with a `type`
  VariantType variant_type = nullptr;

  RecipeField when(bool (*f)(const Recipe&)) const;  // written only if f(recipe)
  RecipeField and_then(FieldThen f) const;
  RecipeField open_below() const;
};

// One builder per kind of value; the error texts are the ones of RecipeReader's getters.
RecipeField integer(const std::string& path, FieldRef<int64_t> at, int64_t min);  // "an integer >= min"
RecipeField uinteger(const std::string& path, FieldRef<uint64_t> at);
RecipeField number(const std::string& path, FieldRef<double> at, bool (*ok)(double), const std::string& expected);
RecipeField boolean(const std::string& path, FieldRef<bool> at);
RecipeField text(const std::string& path, FieldRef<std::string> at);  // a non-empty string
// One of `options`: "unknown <what> 'x' (did you mean 'y'?); supported: a, b". `current` names the
// field's value (the default when the key is absent; what is written), `set` stores options[i].
RecipeField choice_of(const std::string& path, const std::vector<std::string>& options, const std::string& what,
                      std::function<std::string(const Recipe&)> current, std::function<void(Recipe&, size_t)> set);
RecipeField choice(const std::string& path, FieldRef<std::string> at, const std::vector<std::string>& options,
                   const std::string& what);
// An enum field (`member` is CNN_RECIPE_AT of an enum): its values' names are choice_names(E{})
// (recipe.h).
template <class Member>
RecipeField choice(const std::string& path, Member member, const std::string& what) {
  using E = std::remove_reference_t<decltype(member(std::declval<Recipe&>()))>;
  const FieldRef<E> at = member;
  return choice_of(
      path, choice_names(E{}), what, [at](const Recipe& r) { return name_of(field_value(at, r)); },
      [at](Recipe& r, size_t i) { at(r) = E(i); });
}
// A name or a list of names (`freeze: layer1`, `freeze: [conv1, bn1]`).
RecipeField names(const std::string& path, FieldRef<std::vector<std::string>> at, const std::string& expected);
RecipeField section(const std::string& path, const FieldVariants* variants = nullptr,
                    VariantType variant_type = nullptr);
RecipeField custom(const std::string& path, FieldRead read, FieldWrite write);

// The table, in the order keys are listed in messages and written (recipe_fields.cpp).
const std::vector<RecipeField>& recipe_fields();

// The keys of a section ("" for the top level), in table order.
std::vector<std::string> section_keys(const std::string& parent);
// The keys --set may name.
Schema recipe_schema();
// Reads every field that has a reader from the recipe document, section by section.
void read_recipe_fields(const RecipeReader& rd, const YAML::Node& doc, Recipe& r);
// Writes every field that has a writer as keys of the mapping `e` is in.
void write_recipe_fields(YAML::Emitter& e, const Recipe& r);

}  // namespace cnn::cfg
