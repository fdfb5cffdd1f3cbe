// The ONNX exporter's walk over the Net: main-path nodes in topological order, each through its
// entry in op_table() (onnx_ops.cpp); then graph inputs/outputs, metadata, ONNX's checker and its
// strict shape inference against the shapes the Net computed.
#include "export/onnx_export.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "export/onnx_builder.h"
#include "io/safetensors.h"

namespace cnn {
namespace onnx_export {

GraphBuilder::GraphBuilder(onnx::GraphProto& graph, const Net& net, const OnnxExportOptions& options)
    : graph_(graph), options_(options) {
  for (const auto& p : net.params()) params_[p.name] = &p.param->value;
  for (const auto& b : net.buffers()) params_[b.name] = &b.buffer->value;
}

void GraphBuilder::reserve(const std::string& name) {
  if (!names_.insert(name).second)
    throw RuntimeError("ONNX export: the tensor name '" + name + "' would be used twice (rename the layer)");
}

std::string GraphBuilder::fresh(const std::string& base) {
  std::string name = base;
  for (int i = 2; names_.count(name); ++i) name = base + "_" + std::to_string(i);
  return name;
}

onnx::NodeProto& GraphBuilder::node(const std::string& op, const std::vector<std::string>& inputs,
                                    const std::string& output, const std::string& name) {
  reserve(output);
  onnx::NodeProto* n = graph_.add_node();
  n->set_op_type(op);
  n->set_name(name);
  size_t last = inputs.size();
  while (last > 0 && inputs[last - 1].empty()) --last;
  for (size_t i = 0; i < last; ++i) n->add_input(inputs[i]);
  n->add_output(output);
  return *n;
}

void GraphBuilder::initializer(const std::string& name, const Shape& dims, const std::vector<float>& values) {
  reserve(name);
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float)));
}

void GraphBuilder::initializer(const std::string& name, const Tensor& value) {
  reserve(name);
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : value.shape()) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(value.data()), size_t(value.numel()) * sizeof(float)));
}

void GraphBuilder::initializer_i64(const std::string& name, const Shape& dims, const std::vector<int64_t>& values) {
  reserve(name);
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : dims) t->add_dims(d);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t)));
}

bool GraphBuilder::has_param(const std::string& full_name) const { return params_.count(full_name) != 0; }

const Tensor& GraphBuilder::param(const std::string& full_name) const {
  auto it = params_.find(full_name);
  if (it == params_.end()) throw RuntimeError("ONNX export: the network has no parameter or buffer '" + full_name + "'");
  return *it->second;
}

std::string GraphBuilder::param_initializer(const std::string& full_name) {
  initializer(full_name, param(full_name));
  return full_name;
}

void ExportNode::unsupported(const std::string& reason) const {
  spec.args.fail("cannot export " + spec.type + " to ONNX: " + reason);
}

void attr(onnx::NodeProto& n, const std::string& name, int64_t v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(v);
}
void attr(onnx::NodeProto& n, const std::string& name, float v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(v);
}
void attr(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& v) {
  auto* a = n.add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a->add_ints(x);
}

namespace {

void set_type(onnx::ValueInfoProto& v, const std::string& name, const Shape& per_sample,
              const OnnxExportOptions& o) {
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = t->mutable_shape();
  auto* batch = shape->add_dim();
  if (o.dynamic_batch) batch->set_dim_param("N");
  else batch->set_dim_value(o.batch);
  for (int64_t d : per_sample) shape->add_dim()->set_dim_value(d);
}

void rename_tensor(onnx::GraphProto& g, const std::string& from, const std::string& to) {
  for (auto& n : *g.mutable_node()) {
    for (auto& s : *n.mutable_input())
      if (s == from) s = to;
    for (auto& s : *n.mutable_output())
      if (s == from) s = to;
  }
}

const OpEntry* find_op(const std::string& type) {
  for (const auto& e : op_table())
    if (type == e.type) return &e;
  return nullptr;
}

void check_options(const OnnxExportOptions& o) {
  if (o.opset < kMinOnnxOpset || o.opset > kMaxOnnxOpset)
    throw ConfigError("--opset: expected " + std::to_string(kMinOnnxOpset) + " to " + std::to_string(kMaxOnnxOpset) +
                      ", got " + std::to_string(o.opset));
  if (!o.dynamic_batch && o.batch < 1) throw ConfigError("--batch: expected an integer >= 1");
}

// --fold-bn: a BN whose input is a conv read by nothing else is folded into that conv.
struct BnFolding {
  std::vector<const NodeSpec*> into;  // conv -> the BN folded into it
  std::vector<char> folded;           // BN nodes folded away
};

BnFolding plan_bn_folding(const ModelSpec& spec, const std::vector<LayerSummary>& rows, bool fold) {
  const size_t count = spec.nodes.size();
  BnFolding f{std::vector<const NodeSpec*>(count, nullptr), std::vector<char>(count, 0)};
  if (!fold) return f;
  // Consumers on the main path (side heads are dropped).
  std::vector<int> consumers(count, 0);
  for (size_t i = 0; i < count; ++i)
    if (!rows[i].head)
      for (int k : spec.nodes[i].inputs)
        if (k >= 0) ++consumers[size_t(k)];
  for (size_t i = 0; i < count; ++i) {
    const NodeSpec& n = spec.nodes[i];
    if (rows[i].head || n.type != "bn" || n.inputs.size() != 1 || n.inputs[0] < 0) continue;
    const size_t k = size_t(n.inputs[0]);
    if (spec.nodes[k].type == "conv" && consumers[k] == 1 && k + 1 != count) {
      f.into[k] = &n;
      f.folded[i] = 1;
    }
  }
  return f;
}

onnx::ModelProto new_model(const ModelSpec& spec, const OnnxExportOptions& o) {
  onnx::ModelProto model;
  model.set_ir_version(onnx::IR_VERSION);
  model.set_producer_name("cnn");
  model.set_producer_version(CNN_VERSION);
  model.set_model_version(1);
  if (!o.doc.empty()) model.set_doc_string(o.doc);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(o.opset);
  model.mutable_graph()->set_name(spec.name.empty() ? "cnn" : spec.name);
  return model;
}

// The graph's nodes, main path only, in order: per node the name of the tensor holding its
// output. `own_output[i]`: node i's output tensor is named after the node.
std::vector<std::string> emit_nodes(GraphBuilder& b, const ModelSpec& spec, const std::vector<LayerSummary>& rows,
                                    const BnFolding& folding, const std::string& input, int64_t batch,
                                    std::vector<char>& own_output) {
  auto with_batch = [&](const Shape& per_sample) {
    Shape s{batch};
    s.insert(s.end(), per_sample.begin(), per_sample.end());
    return s;
  };
  const size_t count = spec.nodes.size();
  std::vector<std::string> tensor(count);
  own_output.assign(count, 0);
  for (size_t i = 0; i < count; ++i) {
    if (rows[i].head) continue;
    const NodeSpec& ns = spec.nodes[i];
    ExportNode n{ns, {}, {}, with_batch(rows[i].output), folding.into[i]};
    for (int k : ns.inputs) {
      n.inputs.push_back(k < 0 ? input : tensor[size_t(k)]);
      n.in_shapes.push_back(with_batch(k < 0 ? spec.input : rows[size_t(k)].output));
    }
    if (folding.folded[i]) {
      tensor[i] = n.inputs[0];
      continue;
    }
    const OpEntry* e = find_op(ns.type);
    if (!e) n.unsupported("the exporter has no ONNX mapping for layer type '" + ns.type + "'");
    if (!e->emit) n.unsupported(e->never);
    if (ns.type != "add")
      for (size_t j = 0; j < n.inputs.size(); ++j)
        if (n.inputs[j] == kZeros)
          n.unsupported("input " + std::to_string(j) + " is the all-zero output of a shortcut with no connection "
                        "(type identity), which the export can only leave out of an add");
    tensor[i] = e->emit(b, n);
    own_output[i] = tensor[i] == ns.name;
  }
  return tensor;
}

// The graph's output: `out` renamed "logits" (unless a layer has that name), or a softmax of it
// named "probabilities". Returns its name.
std::string name_output(GraphBuilder& b, onnx::GraphProto& graph, const std::string& out, const Shape& out_shape,
                        const OnnxExportOptions& o) {
  std::string out_name = "logits";
  if (o.softmax) {
    if (out_shape.size() != 1 && o.opset < 13)
      throw ConfigError("--softmax: the output is N x " + shape_str(out_shape) +
                        "; a softmax over its channels needs --opset 13 or later");
    out_name = b.fresh("probabilities");
    auto& n = b.node("Softmax", {out}, out_name, "softmax");
    attr(n, "axis", int64_t(1));
  } else if (b.fresh(out_name) == out_name) {
    rename_tensor(graph, out, out_name);
  } else {
    out_name = out;  // a layer is named "logits": keep its name
  }
  return out_name;
}

void add_metadata(onnx::ModelProto& model, const ModelSpec& spec, const OnnxExportOptions& o) {
  auto meta = [&](const std::string& k, const std::string& v) {
    auto* p = model.add_metadata_props();
    p->set_key(k);
    p->set_value(v);
  };
  meta("model", spec.name);
  meta("input", shape_str(spec.input));
  meta("bn_folded", o.fold_bn ? "true" : "false");
  meta("output", o.softmax ? "probabilities" : "logits");
  if (!o.class_names.empty()) meta("class_names", nlohmann::json(o.class_names).dump());
}

// ONNX's own checks: the checker (schemas, attributes, graph structure), then strict shape
// inference, which also compares every inferred shape with the one the Net computed (declared
// as value_info; dropped again before writing). Returns the serialized model.
std::string checked_bytes(onnx::ModelProto& model, const ModelSpec& spec) {
  try {
    onnx::checker::check_model(model);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1, false));
  } catch (const std::exception& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    throw RuntimeError("ONNX export of '" + spec.name + "' failed ONNX's checks (an exporter bug): " + msg);
  }
  model.mutable_graph()->clear_value_info();
  if (model.ByteSizeLong() > size_t(INT_MAX))
    throw RuntimeError("ONNX export of '" + spec.name + "': the model is larger than protobuf's 2 GiB limit");
  std::string bytes;
  if (!model.SerializeToString(&bytes)) throw RuntimeError("ONNX export of '" + spec.name + "': serialization failed");
  return bytes;
}

}  // namespace
}  // namespace onnx_export

using namespace onnx_export;

std::vector<std::pair<std::string, std::string>> onnx_layer_table() {
  std::vector<std::pair<std::string, std::string>> t;
  for (const auto& e : op_table()) t.emplace_back(e.type, e.emit ? "" : e.never);
  return t;
}

std::string onnx_model_bytes(const Net& net, const OnnxExportOptions& o) {
  check_options(o);
  const ModelSpec& spec = net.spec();
  const std::vector<LayerSummary> rows = net.summary();
  onnx::ModelProto model = new_model(spec, o);
  onnx::GraphProto& graph = *model.mutable_graph();
  GraphBuilder b(graph, net, o);
  const std::string input = "input";
  b.reserve(input);
  std::vector<char> own_output;
  const std::vector<std::string> tensor = emit_nodes(b, spec, rows, plan_bn_folding(spec, rows, o.fold_bn), input,
                                                     o.dynamic_batch ? 1 : o.batch, own_output);

  const std::string& out = tensor.back();
  const NodeSpec& last = spec.nodes.back();
  if (out == kZeros) last.args.fail("cannot export to ONNX: the network's output is all zeros");
  if (out == input) last.args.fail("cannot export to ONNX: the network's output is its input (no layer computes anything)");
  const Shape& out_shape = rows.back().output;
  const std::string out_name = name_output(b, graph, out, out_shape, o);

  set_type(*graph.add_input(), input, spec.input, o);
  set_type(*graph.add_output(), out_name, out_shape, o);
  for (size_t i = 0; i < tensor.size(); ++i)
    if (own_output[i] && tensor[i] != out && !rows[i].head) set_type(*graph.add_value_info(), tensor[i], rows[i].output, o);
  add_metadata(model, spec, o);
  return checked_bytes(model, spec);
}

void export_onnx(const Net& net, const OnnxExportOptions& options, const std::string& path) {
  write_file_atomic(path, onnx_model_bytes(net, options));
}

}  // namespace cnn
