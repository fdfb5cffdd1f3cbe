#include "explain/cam.h"

#include "core/error.h"

namespace cnn {

namespace {

bool spatial(const Shape& s) { return s.size() == 3 && s[1] * s[2] > 1; }

CamLayer layer_of(const LayerSummary& row, int node) {
  return CamLayer{node, row.name, row.output[0], row.output[1], row.output[2]};
}

}  // namespace

CamLayer resolve_cam_layer(const Net& net, const std::string& name) {
  const std::vector<LayerSummary> rows = net.summary();
  const std::string model = net.spec().name;
  if (name.empty()) {
    for (int i = int(rows.size()) - 1; i >= 0; --i)
      if (!rows[size_t(i)].head && spatial(rows[size_t(i)].output)) return layer_of(rows[size_t(i)], i);
    throw ConfigError("model '" + model + "' has no layer with a C x H x W feature map to explain");
  }
  int found = -1;
  for (size_t i = 0; i < rows.size(); ++i)
    if (rows[i].name == name || rows[i].name.rfind(name + ".", 0) == 0) found = int(i);
  if (found < 0) {
    std::vector<std::string> names;
    for (const auto& r : rows) names.push_back(r.name);
    const std::string hint = closest_match(name, names);
    throw ConfigError("--layer: model '" + model + "' has no layer '" + name + "'" +
                      (hint.empty() ? " (cnn summary lists them)" : " (did you mean '" + hint + "'?)"));
  }
  const LayerSummary& row = rows[size_t(found)];
  if (row.head) throw ConfigError("--layer: layer '" + row.name + "' only feeds a side head, not the output");
  if (!spatial(row.output))
    throw ConfigError("--layer: layer '" + row.name + "' outputs " + shape_str(row.output) +
                      ", not a C x H x W feature map with H x W > 1");
  return layer_of(row, found);
}

const Tensor* cam_classifier_weight(const Net& net, const CamLayer& layer) {
  const auto& nodes = net.spec().nodes;
  const std::vector<LayerSummary> rows = net.summary();
  int prev = layer.node;
  bool pooled = false;
  for (size_t i = size_t(layer.node) + 1; i < nodes.size(); ++i) {
    if (rows[i].head) continue;
    if (nodes[i].inputs.size() != 1 || nodes[i].inputs[0] != prev) return nullptr;
    const std::string& type = nodes[i].type;
    const bool last = i + 1 == nodes.size();
    if (!pooled && (type == "global_avgpool" || type == "adaptive_avgpool") && rows[i].output.size() == 3 &&
        rows[i].output[1] == 1 && rows[i].output[2] == 1) {
      pooled = true;
    } else if (pooled && (type == "flatten" || type == "dropout" || type == "identity") && !last) {
    } else if (pooled && type == "linear" && last) {
      for (const NamedParam& p : net.params())
        if (p.name == nodes[i].name + ".weight") return &p.param->value;
      return nullptr;
    } else {
      return nullptr;
    }
    prev = int(i);
  }
  return nullptr;
}

CamMethod default_cam_method(const Net& net, const CamLayer& layer) {
  return cam_classifier_weight(net, layer) ? CamMethod::cam : CamMethod::gradcam;
}

CamExplainer::CamExplainer(Net& net, CamLayer layer, CamMethod method)
    : net_(net), layer_(std::move(layer)), method_(method) {
  net_.set_fusion(false);  // every node's output and gradient kept, whichever layer is chosen
  if (method_ == CamMethod::cam) {
    weight_ = cam_classifier_weight(net_, layer_);
    if (!weight_)
      throw ConfigError("--method cam: after layer '" + layer_.name + "' model '" + net_.spec().name +
                        "' is not global average pooling + one linear layer; use --method gradcam");
  }
}

const Tensor& CamExplainer::forward(const Tensor& input) {
  RunContext ctx{false, nullptr};
  const Tensor& logits = net_.forward(input, ctx);
  if (logits.ndim() != 2)
    throw ConfigError("model '" + net_.spec().name + "' outputs " + shape_str(logits.shape()) +
                      " per batch, not a vector of class scores per image");
  batch_ = logits.dim(0);
  classes_ = logits.dim(1);
  return logits;
}

Tensor CamExplainer::maps(const std::vector<int64_t>& classes) {
  if (int64_t(classes.size()) != batch_) throw RuntimeError("CamExplainer::maps: one class per sample is needed");
  for (int64_t k : classes)
    if (k < 0 || k >= classes_)
      throw ConfigError("class " + std::to_string(k) + " is out of range: the model has " + std::to_string(classes_) +
                        " classes (0.." + std::to_string(classes_ - 1) + ")");
  const int64_t C = layer_.channels, HW = layer_.height * layer_.width;
  const Tensor& A = net_.activation(layer_.node);
  std::vector<float> alpha(size_t(batch_ * C));
  if (method_ == CamMethod::cam) {
    for (int64_t n = 0; n < batch_; ++n)
      for (int64_t c = 0; c < C; ++c) alpha[size_t(n * C + c)] = (*weight_)[classes[size_t(n)] * C + c];
  } else {
    Tensor& dy = net_.output_grad();
    dy.zero();
    for (int64_t n = 0; n < batch_; ++n) dy[n * classes_ + classes[size_t(n)]] = 1.f;
    RunContext ctx{false, nullptr};
    const Tensor& G = net_.backward_to(layer_.node, ctx);
    for (int64_t n = 0; n < batch_; ++n)
      for (int64_t c = 0; c < C; ++c) {
        const float* g = G.data() + (n * C + c) * HW;
        double s = 0;
        for (int64_t i = 0; i < HW; ++i) s += g[i];
        alpha[size_t(n * C + c)] = float(s / double(HW));
      }
  }
  Tensor out(Shape{batch_, layer_.height, layer_.width});
  for (int64_t n = 0; n < batch_; ++n) {
    float* m = out.data() + n * HW;
    for (int64_t c = 0; c < C; ++c) {
      const float a = alpha[size_t(n * C + c)];
      const float* x = A.data() + (n * C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) m[i] += a * x[i];
    }
  }
  return out;
}

}  // namespace cnn
