#pragma once
// Internal to the ONNX exporter: the graph under construction and what one layer's emitter sees.
// Emitters (onnx_ops.cpp) add nodes and initializers here; onnx_export.cpp walks the Net.
#include <onnx/onnx_pb.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/model_spec.h"
#include "export/onnx_export.h"

namespace cnn::onnx_export {

// The name the walker gives a tensor that is known to be all zeros (a `shortcut` of type
// identity whose shapes differ, i.e. no shortcut): only `add` consumes it, by leaving it out.
inline const std::string kZeros = "<zeros>";

class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& graph, const Net& net, const OnnxExportOptions& options);

  // Adds a node; `inputs` may hold "" for an omitted optional input (trailing ones are dropped).
  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output,
                        const std::string& name);
  // Adds a float initializer (its own tensor, raw little-endian data); the name must be new.
  void initializer(const std::string& name, const Tensor& value);
  void initializer(const std::string& name, const Shape& dims, const std::vector<float>& values);
  void initializer_i64(const std::string& name, const Shape& dims, const std::vector<int64_t>& values);
  // The Net's parameter or buffer with this full name ("conv1.weight", "bn1.running_var").
  const Tensor& param(const std::string& full_name) const;
  bool has_param(const std::string& full_name) const;
  // Copies the Net's parameter into an initializer of the same name; returns the name.
  std::string param_initializer(const std::string& full_name);
  const OnnxExportOptions& options() const { return options_; }
  // A tensor name not used yet, derived from `base` ("<node>/<op>").
  std::string fresh(const std::string& base);
  // Marks a tensor name as used; throws RuntimeError when it already is.
  void reserve(const std::string& name);

 private:
  onnx::GraphProto& graph_;
  const OnnxExportOptions& options_;
  std::map<std::string, const Tensor*> params_;
  std::set<std::string> names_;
};

struct ExportNode {
  const NodeSpec& spec;
  std::vector<std::string> inputs;   // tensor names
  std::vector<Shape> in_shapes;      // with the batch dimension
  Shape out_shape;
  const NodeSpec* fold_bn = nullptr; // conv only: the BN node folded into it (--fold-bn)
  std::string out() const { return spec.name; }  // the name of its output tensor
  // Throws the ConfigError "<file:line:col>: <path>: cannot export <type> to ONNX: <reason>".
  [[noreturn]] void unsupported(const std::string& reason) const;
};

// One layer kind's mapping: adds its nodes, returns the name of its output tensor (one of its
// inputs for a layer that vanishes in eval mode, kZeros for an all-zero output).
using Emitter = std::string (*)(GraphBuilder&, const ExportNode&);
struct OpEntry {
  const char* type;    // registry name (layers/layer_list.h)
  Emitter emit;        // nullptr: never exportable, for the reason below
  const char* never;
};
const std::vector<OpEntry>& op_table();

// Attribute helpers.
void attr(onnx::NodeProto& n, const std::string& name, int64_t v);
void attr(onnx::NodeProto& n, const std::string& name, float v);
void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v);

}  // namespace cnn::onnx_export
