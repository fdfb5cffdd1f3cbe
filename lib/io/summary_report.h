#pragma once
// `cnn summary` output: a per-layer table (name, type, output shape, params, MACs) and a
// torchinfo-like footer, or the same as JSON.
#include <string>

#include "graph/net.h"

namespace cnn {

// train/eval: the Net's planned memory at `batch` (Net::planned_memory).
std::string summary_table(const Net& net, int64_t batch, const Net::PlannedMemory& train, const Net::PlannedMemory& eval);
std::string summary_json(const Net& net, int64_t batch, const Net::PlannedMemory& train, const Net::PlannedMemory& eval);

}  // namespace cnn
