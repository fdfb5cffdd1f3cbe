#pragma once
// `cnn summary` output: a per-layer table (name, type, output shape, params, MACs) and a
// torchinfo-like footer, or the same as JSON.
#include <string>

#include "graph/net.h"

namespace cnn {

std::string summary_table(const Net& net, int64_t batch);
std::string summary_json(const Net& net, int64_t batch);

}  // namespace cnn
