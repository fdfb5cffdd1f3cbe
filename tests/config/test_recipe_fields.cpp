// The recipe field table (config/recipe_field.h): one line per field drives the keys each section
// accepts, the resolved recipe and the keys --set may name; every field is documented.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <sstream>

#include "config/recipe_field.h"
#include "config_test_util.h"

using cnn::Recipe;
using cnn::testing::config_error;
namespace cfg = cnn::cfg;

namespace {

const std::string kFixtures = std::string(CNN_SOURCE_DIR) + "/tests/config/fixtures";

Recipe from_string(const std::string& text, const std::vector<std::string>& overrides = {}) {
  return cnn::load_recipe_string(text, "r.yaml", kFixtures, overrides);
}

// The value the resolved recipe holds for a dotted path (YAML of the node, "" when absent).
std::string resolved(const Recipe& r, const std::string& path) {
  YAML::Node n = YAML::Load(r.resolved_yaml);
  std::stringstream ss(path);
  std::string seg;
  while (std::getline(ss, seg, '.')) {
    if (!n.IsMap() || !n[seg].IsDefined()) return "";
    n.reset(n[seg]);
  }
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

}  // namespace

TEST_CASE("recipe fields: every line has a unique path and a known section", "[config][recipe][fields]") {
  std::set<std::string> seen, sections = {""};
  for (const cfg::RecipeField& f : cfg::recipe_fields()) {
    INFO(f.path);
    CHECK(seen.insert(f.path).second);
    CHECK(sections.count(f.parent) == 1);  // a section's line comes before its fields
    if (f.is_section) sections.insert(f.path);
  }
}

TEST_CASE("recipe fields: each is read, written back and settable with --set", "[config][recipe][fields]") {
  // A value other than the default for a few kinds of lines; all reload to the same recipe.
  const Recipe r = from_string("model: lenet5.yaml\n",
                               {"train.epochs=3", "train.seed=9", "data.mix_prob=0.25", "train.freeze=[conv1]",
                                "train.ema.decay=0.5", "report=false", "data.mixup.alpha=0.2"});
  CHECK(resolved(r, "train.epochs") == "3");
  CHECK(resolved(r, "train.seed") == "9");
  CHECK(resolved(r, "data.mix_prob") == "0.25");
  CHECK(resolved(r, "train.freeze") == "[conv1]");
  CHECK(resolved(r, "train.ema") == "{decay: 0.5, every: 1, warmup: 0}");
  CHECK(resolved(r, "report") == "false");
  CHECK(resolved(r, "data.mixup") == "{alpha: 0.2}");
  const Recipe again = cnn::load_recipe_string(r.resolved_yaml, "resolved.yaml", kFixtures);
  CHECK(again.resolved_yaml == r.resolved_yaml);
  // Lines with `when` are written only when they apply.
  CHECK(resolved(r, "data.channels").empty());     // mnist has its own channels
  CHECK(resolved(r, "train.aux_weight").empty());  // unset: the heads' own weights
  CHECK(resolved(from_string("model: lenet5.yaml\ndata: {dataset: csv}\n"), "data.channels") == "3");
  // Every leaf of the table is a key --set may name.
  const cfg::Schema schema = cfg::recipe_schema();
  for (const cfg::RecipeField& f : cfg::recipe_fields()) {
    const cfg::Schema* s = &schema;
    std::stringstream ss(f.path);
    std::string seg;
    while (std::getline(ss, seg, '.')) {
      INFO(f.path);
      REQUIRE(s->fields.count(seg) == 1);
      s = &s->fields.at(seg);
    }
    CHECK(s->fields.empty() == !f.is_section);
  }
}

TEST_CASE("recipe fields: unknown keys name the file, the section and the key", "[config][recipe][fields][errors]") {
  CHECK(config_error([] { from_string("model: lenet5.yaml\ntrain:\n  ema: {decay: 0.9, evry: 2}\n"); }) ==
        "r.yaml:3:21: train.ema: unknown key 'evry' (did you mean 'every'?); expected one of: decay, every, warmup");
  CHECK(config_error([] { from_string("model: lenet5.yaml\ndata:\n  mixup: {alpa: 0.2}\n"); }) ==
        "r.yaml:3:11: data.mixup: unknown key 'alpa' (did you mean 'alpha'?); expected one of: alpha");
  CHECK(config_error([] { from_string("model: lenet5.yaml\n", {"train.ema.dacay=0.9"}); }) ==
        "--set: unknown key 'train.ema.dacay' (did you mean 'train.ema.decay'?); keys under 'train.ema': decay, "
        "every, warmup");
}

TEST_CASE("recipe fields: every field is documented in docs/config.md", "[config][recipe][fields][docs]") {
  std::ifstream in(std::string(CNN_SOURCE_DIR) + "/docs/config.md");
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  const std::string doc = text.str();
  for (const cfg::RecipeField& f : cfg::recipe_fields()) {
    INFO(f.path << ": add it to docs/config.md (the recipe listing or its section's table)");
    // `key` in a table or prose, or `key:` in the recipe listing (indented or inside {...}).
    const std::regex documented("(`" + f.key + "`)|([\\s{,]" + f.key + ":)");
    CHECK(std::regex_search(doc, documented));
  }
}
