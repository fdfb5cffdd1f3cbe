#pragma once
// A ModelSpec written in C++ for graph tests: nodes added in order, inputs by index (-1: the
// net's input).
#include <string>
#include <utility>
#include <vector>

#include "../layer_builder.h"
#include "config/model_spec.h"

namespace cnn::test {

struct SpecBuilder {
  ModelSpec spec;
  explicit SpecBuilder(Shape input, std::string name = "test") {
    spec.name = std::move(name);
    spec.input = std::move(input);
  }
  int add(const std::string& name, const std::string& type, const KeyValues& kv, std::vector<int> inputs) {
    NodeSpec n;
    n.name = name;
    n.type = type;
    n.args = layer_args(type, kv, name);
    n.inputs = std::move(inputs);
    spec.nodes.push_back(std::move(n));
    return int(spec.nodes.size()) - 1;
  }
};

}  // namespace cnn::test
