#pragma once
// Image files as a model sees them at evaluation (cnn predict, cnn explain): decoded as PIL
// does, converted to gray (PIL's convert("L")) for 1-channel models, then the recipe's
// data.eval_transforms, refusing images over the recipe's data.max_image_pixels before decoding.
// Without a recipe (a model file) there are no transforms, so the images
// must already have the model's input size.
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "config/recipe.h"
#include "core/rng.h"
#include "data/decode.h"
#include "data/image.h"
#include "data/transforms.h"

namespace cnn {

class EvalInput {
 public:
  // ConfigError when the model does not take a 1- or 3-channel C x H x W input. `command` names
  // the caller in errors ("predict").
  EvalInput(const ModelSpec& model, const Recipe* recipe, const std::string& command);
  // Decodes `path` (BadSampleError naming it when it cannot), applies the 8-bit steps, leaving
  // the picture at the model's input size in `shown`, and writes C x H x W floats to `out`.
  // ConfigError when the transformed image does not have the model's input size.
  void load(const std::string& path, Image& shown, float* out);

 private:
  ModelSpec model_;
  bool from_recipe_;
  Pipeline pipeline_;
  DecodeLimits limits_;  // the recipe's data.max_image_pixels (a model file: the default)
  TransformScratch scratch_;
  std::vector<uint8_t> buffer_;
  Rng rng_{0};  // eval transforms draw nothing
};

}  // namespace cnn
