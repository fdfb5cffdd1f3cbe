#include "data/eval_input.h"

#include <fmt/format.h>

#include "core/error.h"
#include "data/decode.h"
#include "data/image_ops.h"

namespace cnn {

namespace {

Pipeline pipeline_of(const ModelSpec& model, const Recipe* recipe, const std::string& command) {
  if (model.input.size() != 3 || (model.input[0] != 1 && model.input[0] != 3))
    throw ConfigError(fmt::format("{}: images need a model with a 1- or 3-channel C x H x W input; '{}' takes {}",
                                  command, model.name, shape_str(model.input)));
  const std::vector<TransformSpec> none;
  return Pipeline(recipe ? recipe->data.eval_transforms : none, model.input[0], "data.eval_transforms");
}

}  // namespace

EvalInput::EvalInput(const ModelSpec& model, const Recipe* recipe, const std::string& command)
    : model_(model), from_recipe_(recipe != nullptr), pipeline_(pipeline_of(model, recipe, command)) {
  if (recipe) limits_.max_pixels = recipe->data.max_image_pixels;
}

void EvalInput::load(const std::string& path, Image& shown, float* out) {
  load_image_file(path, shown, buffer_, limits_);
  if (model_.input[0] == 1) to_grayscale(shown);
  pipeline_.apply_bytes(shown, scratch_, rng_);
  if (shown.height != model_.input[1] || shown.width != model_.input[2])
    throw ConfigError(fmt::format("{}: after the eval transforms the image is {}x{}, the model '{}' expects {}{}", path,
                                  shown.height, shown.width, model_.name, shape_str(model_.input),
                                  from_recipe_ ? " (check data.eval_transforms: resize / center_crop)"
                                               : " (pass a recipe whose data.eval_transforms resize and crop)"));
  pipeline_.apply_floats(shown, rng_, out);
}

}  // namespace cnn
