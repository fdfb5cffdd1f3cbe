#include "train/model_classes.h"

#include <fmt/format.h>

#include "core/error.h"

namespace cnn {

Recipe fit_model_to_classes(const Recipe& recipe, int64_t classes, std::string& note) {
  note.clear();
  Recipe r = with_model_classes(recipe, classes);
  if (r.classes_from_data)
    note = fmt::format("model {}: classes {} (the {} classes of data.dataset {}; model_args.classes sets another count)",
                       r.model.name, classes, classes, name_of(r.data.dataset));
  return r;
}

void check_model_classes(const Net& net, const Recipe& recipe, int64_t classes) {
  const Shape out = net.output_shape();
  if (out.size() == 1 && out[0] == classes) return;
  const std::string model = recipe.model.file.empty() ? recipe.model.name : recipe.model.file;
  const std::string how = recipe.model.has_arg("classes")
                              ? fmt::format("set model_args: {{classes: {}}} in the recipe (or --set model.classes={})",
                                            classes, classes)
                              : fmt::format("give the model an argument `args: {{classes: {}}}` and end it in "
                                            "{{linear: {{out: $classes}}}}",
                                            classes);
  throw ConfigError(fmt::format("{}: the model ends in N x {} outputs but '{}' has {} classes; {}", model,
                                shape_str(out), name_of(recipe.data.dataset), classes, how));
}

}  // namespace cnn
