#pragma once
// The most probable classes of each row of logits, and class names with a fallback.
#include <string>
#include <vector>

#include "core/tensor.h"

namespace cnn {

struct TopClasses {
  std::vector<int64_t> index;  // most probable first; ties: lower index first
  std::vector<float> prob;     // softmax probabilities
};

// logits: N x K. k is clamped to K.
std::vector<TopClasses> top_classes(const Tensor& logits, int64_t k);

// names[k], or "class k" when there is no name for it.
std::string class_name(const std::vector<std::string>& names, int64_t k);

}  // namespace cnn
