#pragma once
// Weights-only export for PyTorch: every parameter and buffer of the Net under its own name, as
// a safetensors file torch's `load_state_dict(..., strict=True)` takes. The zoo configs name
// their parameters as torchvision does, so the file loads into the torchvision model of the same
// name (side heads included, as torchvision's GoogLeNet/Inception3 with aux_logits=True have them).
// num_batches_tracked is written as I64, as PyTorch keeps it; everything else as F32. No
// optimizer state, no BN folding. Written atomically.
#include <map>
#include <string>

#include "graph/net.h"

namespace cnn {

void export_state_dict(const Net& net, const std::string& path, const std::map<std::string, std::string>& metadata = {});

}  // namespace cnn
