// Recipe YAML with --set overrides: the input is the recipe, then optionally a line "#--set" and
// one override per line. Models are resolved relative to configs/recipes, as a shipped recipe's.
#include "config/recipe.h"
#include "fuzz_util.h"

#ifndef CNN_SOURCE_DIR
#define CNN_SOURCE_DIR "."
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return cnn::fuzz::guarded([&] {
    std::string text(reinterpret_cast<const char*>(data), size);
    std::vector<std::string> sets;
    const size_t marker = text.find("\n#--set\n");
    if (marker != std::string::npos) {
      std::string rest = text.substr(marker + 8);
      text.resize(marker);
      size_t start = 0;
      while (start <= rest.size() && sets.size() < 16) {
        size_t end = rest.find('\n', start);
        if (end == std::string::npos) end = rest.size();
        if (end > start) sets.push_back(rest.substr(start, end - start));
        start = end + 1;
      }
    }
    cnn::load_recipe_string(text, "fuzz.yaml", std::string(CNN_SOURCE_DIR) + "/configs/recipes", sets);
  });
}
