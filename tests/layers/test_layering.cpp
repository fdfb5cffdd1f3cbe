// The include direction between lib/ areas (docs/design.md "Data flow"): layers never see the
// config code (they read LayerArgs, which lives in layers/), kernels and core know no layers.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

// "file:line: #include ..." for every include of `forbidden/` in lib/<area>.
std::vector<std::string> includes_of(const std::string& area, const std::vector<std::string>& forbidden) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(std::string(CNN_SOURCE_DIR) + "/lib/" + area)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path());
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      for (const auto& f : forbidden)
        if (std::regex_search(line, std::regex("^\\s*#\\s*include\\s*\"" + f + "/")))
          out.push_back(fs::relative(e.path(), CNN_SOURCE_DIR).string() + ":" + std::to_string(n) + ": " + line);
  }
  return out;
}

}  // namespace

TEST_CASE("layering: layers/ never includes config/, kernels/ and core/ include neither", "[layers][layering]") {
  CHECK(includes_of("layers", {"config", "graph", "train", "data"}).empty());
  CHECK(includes_of("kernels", {"config", "layers", "graph", "train", "data"}).empty());
  CHECK(includes_of("core", {"config", "layers", "graph", "train", "data", "kernels"}).empty());
}
