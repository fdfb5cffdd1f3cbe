#pragma once
// Turns dataset samples into a float batch: pixels / 255, then the transforms in order
// (issue 2: normalize). Deterministic; parallel over images.
#include <vector>

#include "config/recipe.h"
#include "core/tensor.h"
#include "data/dataset.h"

namespace cnn {

// Checks that every transform fits the dataset (e.g. normalize has 1 or C values); throws
// ConfigError naming the field.
void check_transforms(const std::vector<TransformSpec>& transforms, const ImageDataset& data,
                      const std::string& field);

void make_batch(const ImageDataset& data, const int64_t* indices, int64_t n,
                const std::vector<TransformSpec>& transforms, Tensor& images, std::vector<int32_t>& labels);

}  // namespace cnn
