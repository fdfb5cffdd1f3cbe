// Every shipped model and recipe under configs/ loads and expands, and each recipe's resolved
// YAML loads back to the same model.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "config/recipe.h"

namespace fs = std::filesystem;

namespace {

std::vector<fs::path> yaml_files(const std::string& dir) {
  std::vector<fs::path> out;
  fs::path root = fs::path(CNN_SOURCE_DIR) / dir;
  if (!fs::is_directory(root)) return out;
  for (const auto& e : fs::directory_iterator(root))
    if (e.path().extension() == ".yaml") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("shipped model configs expand", "[config][shipped]") {
  for (const auto& p : yaml_files("configs/models")) {
    INFO(p.string());
    cnn::ModelSpec m = cnn::load_model_file(p.string());
    CHECK_FALSE(m.nodes.empty());
    CHECK(m.name == p.stem().string());
  }
}

TEST_CASE("shipped recipes load and their resolved YAML reloads", "[config][shipped]") {
  for (const auto& p : yaml_files("configs/recipes")) {
    INFO(p.string());
    cnn::Recipe r = cnn::load_recipe_file(p.string());
    CHECK_FALSE(r.model.nodes.empty());
    fs::path tmp = fs::temp_directory_path() / ("cnn_test_shipped_" + std::to_string(::getpid()) + "_" + p.filename().string());
    {
      std::ofstream out(tmp);
      out << r.resolved_yaml;
    }
    cnn::Recipe again = cnn::load_recipe_file(tmp.string());
    fs::remove(tmp);
    CHECK(again.resolved_yaml == r.resolved_yaml);
    REQUIRE(again.model.nodes.size() == r.model.nodes.size());
    for (size_t i = 0; i < r.model.nodes.size(); ++i) CHECK(again.model.nodes[i].name == r.model.nodes[i].name);
  }
}
