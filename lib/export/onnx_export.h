#pragma once
// ONNX export of a Net's eval-mode network: the main path only (side heads dropped), dropout and
// identities removed, BatchNorm kept or folded into the preceding convolution. Each layer kind
// maps to its plainest ONNX ops through one table (export/onnx_ops.cpp), every weight is its own
// initializer, and the model passes ONNX's checker (libonnx) before it is written. Written
// atomically: a failed export leaves nothing at the destination. docs/export.md lists the ops.
#include <cstdint>
#include <string>
#include <vector>

#include "graph/net.h"

namespace cnn {

struct OnnxExportOptions {
  int64_t batch = 1;                     // fixed batch dimension...
  bool dynamic_batch = false;            // ...or a symbolic one named "N"
  int64_t opset = 13;                    // kMinOnnxOpset..kMaxOnnxOpset
  bool fold_bn = false;                  // fold BN into the conv right before it (its only consumer)
  bool softmax = false;                  // end with Softmax over the classes: output "probabilities"
  std::vector<std::string> class_names;  // metadata "class_names" (JSON list) when non-empty
  std::string doc;                       // the model's doc_string (e.g. where the weights came from)
};

constexpr int64_t kMinOnnxOpset = 10;  // MaxPool/AveragePool ceil_mode
constexpr int64_t kMaxOnnxOpset = 17;  // the newest opset libonnx 1.12 knows

// The serialized ModelProto. Throws ConfigError naming the layer (file:line:col and its path) and
// the reason when a layer cannot be represented; RuntimeError when ONNX's checker rejects the
// model (a bug of the exporter, reported with the checker's message).
std::string onnx_model_bytes(const Net& net, const OnnxExportOptions& options);

// onnx_model_bytes() written atomically to `path`.
void export_onnx(const Net& net, const OnnxExportOptions& options, const std::string& path);

// The layer types the exporter has an entry for, and for each either "" (exported) or why it
// never can be (tests check that every registered layer type is listed).
std::vector<std::pair<std::string, std::string>> onnx_layer_table();

}  // namespace cnn
