// The ONNX mapping of every layer kind: one emitter per registry name, in one table. Each layer
// becomes its plainest single op where ONNX has one; the few multi-op spellings are chosen to be
// loadable by OpenCV's dnn module (docs/export.md lists every mapping and why).
#include <algorithm>
#include <cmath>

#include "layers/bn_fold.h"
#include "export/onnx_builder.h"
#include "layers/options.h"

namespace cnn::onnx_export {
namespace {

std::vector<int64_t> pads_of(const std::vector<int64_t>& begin, const std::vector<int64_t>& end) {
  std::vector<int64_t> p = begin;
  p.insert(p.end(), end.begin(), end.end());
  return p;
}

// The BN parameters of node `bn` (affine or not): gamma/beta may be null.
struct BnTensors {
  const Tensor *gamma = nullptr, *beta = nullptr, *mean = nullptr, *var = nullptr;
  double eps = 1e-5;
};
BnTensors bn_tensors(GraphBuilder& b, const std::string& prefix, const BatchNormOptions& o) {
  BnTensors t;
  if (o.affine) {
    t.gamma = &b.param(prefix + ".weight");
    t.beta = &b.param(prefix + ".bias");
  }
  t.mean = &b.param(prefix + ".running_mean");
  t.var = &b.param(prefix + ".running_var");
  t.eps = o.eps;
  return t;
}

// BatchNormalization(x, scale, B, mean, var) with the BN's parameters under `prefix`.
std::string emit_bn_op(GraphBuilder& b, const std::string& x, const std::string& prefix, const BatchNormOptions& o,
                       const std::string& out, const std::string& node_name) {
  std::string scale = prefix + ".weight", bias = prefix + ".bias";
  if (o.affine) {
    b.param_initializer(scale);
    b.param_initializer(bias);
  } else {  // ONNX needs scale and B: ones and zeros under the names affine parameters would have
    const int64_t C = b.param(prefix + ".running_mean").numel();
    b.initializer(scale, {C}, std::vector<float>(size_t(C), 1.f));
    b.initializer(bias, {C}, std::vector<float>(size_t(C), 0.f));
  }
  const std::string mean = b.param_initializer(prefix + ".running_mean");
  const std::string var = b.param_initializer(prefix + ".running_var");
  auto& n = b.node("BatchNormalization", {x, scale, bias, mean, var}, out, node_name);
  attr(n, "epsilon", float(o.eps));
  return out;
}

// Conv of x with the weights under `prefix` (prefix.weight, prefix.bias when `bias`), the BN under
// `bn_prefix` folded in when it is not empty.
std::string emit_conv_op(GraphBuilder& b, const std::string& x, const std::string& prefix, const Conv2dOptions& o,
                         const std::string& bn_prefix, const BatchNormOptions& bn, const std::string& out,
                         const std::string& node_name) {
  const std::string w = prefix + ".weight", bias = prefix + ".bias";
  std::string bias_input;
  if (!bn_prefix.empty()) {
    const BnTensors t = bn_tensors(b, bn_prefix, bn);
    FoldedWeights f = fold_batchnorm(b.param(w), o.bias ? &b.param(bias) : nullptr, t.gamma, t.beta, *t.mean, *t.var,
                                     t.eps);
    b.initializer(w, f.weight);
    b.initializer(bias, f.bias);
    bias_input = bias;
  } else {
    b.param_initializer(w);
    if (o.bias) bias_input = b.param_initializer(bias);
  }
  auto& n = b.node("Conv", {x, w, bias_input}, out, node_name);
  attr(n, "kernel_shape", o.k);
  attr(n, "strides", o.stride);
  attr(n, "pads", pads_of(o.pad, o.pad));
  attr(n, "dilations", o.dilation);
  attr(n, "group", o.groups);
  return out;
}

std::string emit_conv(GraphBuilder& b, const ExportNode& n) {
  const Conv2dOptions o = parse_conv2d(n.spec.args);
  if (n.fold_bn)
    return emit_conv_op(b, n.inputs[0], n.spec.name, o, n.fold_bn->name, parse_batchnorm(n.fold_bn->args), n.out(),
                        n.spec.name);
  return emit_conv_op(b, n.inputs[0], n.spec.name, o, "", {}, n.out(), n.spec.name);
}

std::string emit_conv_transpose(GraphBuilder& b, const ExportNode& n) {
  const ConvTransposeOptions o = parse_conv_transpose2d(n.spec.args);
  const std::string w = b.param_initializer(n.spec.name + ".weight");
  const std::string bias = o.bias ? b.param_initializer(n.spec.name + ".bias") : "";
  auto& node = b.node("ConvTranspose", {n.inputs[0], w, bias}, n.out(), n.spec.name);
  attr(node, "kernel_shape", o.k);
  attr(node, "strides", o.stride);
  attr(node, "pads", pads_of(o.pad, o.pad));
  attr(node, "output_padding", o.output_pad);
  attr(node, "dilations", o.dilation);
  attr(node, "group", o.groups);
  return n.out();
}

std::string emit_linear(GraphBuilder& b, const ExportNode& n) {
  const LinearOptions o = parse_linear(n.spec.args);
  if (n.in_shapes[0].size() != 2) n.unsupported("Gemm needs a 2-d N x features input, got " + shape_str(n.in_shapes[0]));
  const std::string w = b.param_initializer(n.spec.name + ".weight");
  std::string bias;
  if (o.bias) bias = b.param_initializer(n.spec.name + ".bias");
  else if (b.options().opset < 11) {  // Gemm's C is optional from opset 11 on
    bias = n.spec.name + ".bias";
    b.initializer(bias, {o.out}, std::vector<float>(size_t(o.out), 0.f));
  }
  auto& node = b.node("Gemm", {n.inputs[0], w, bias}, n.out(), n.spec.name);
  attr(node, "transB", int64_t(1));
  return n.out();
}

std::string emit_bn(GraphBuilder& b, const ExportNode& n) {
  const size_t rank = n.in_shapes[0].size();
  if (rank != 4 && rank != 2) n.unsupported("BatchNormalization export expects N x C x H x W or N x C, got " + shape_str(n.in_shapes[0]));
  return emit_bn_op(b, n.inputs[0], n.spec.name, parse_batchnorm(n.spec.args), n.out(), n.spec.name);
}

// PyTorch's pooling output size: ceil mode drops a last window that would start in the right padding.
int64_t torch_pool_size(int64_t in, int64_t k, int64_t s, int64_t p, bool ceil) {
  const int64_t span = in + 2 * p - k;
  int64_t out = (ceil ? (span + s - 1) / s : span / s) + 1;
  if (ceil && (out - 1) * s >= in + p) --out;
  return out;
}

std::string emit_pool(GraphBuilder& b, const ExportNode& n, bool avg) {
  const PoolOptions o = parse_pool2d(n.spec.args, avg);
  const Shape& in = n.in_shapes[0];
  // ONNX's output size is floor or ceil((in + pads - k) / s) + 1 by ceil_mode, without PyTorch's
  // rule that drops a last window starting in the right padding. Plainest first: ceil_mode 0 when
  // it gives PyTorch's size (also when PyTorch's rule dropped that window), else ceil_mode 1; for
  // max pooling with dimensions that need different modes, ceil_mode 1 with less end padding
  // where the rule dropped a window (the windows stay where they were; padding is never the max).
  auto onnx_size = [&](int d, int64_t pad_end, bool ceil) {
    const int64_t span = in[size_t(2 + d)] + o.pad[size_t(d)] + pad_end - o.k[size_t(d)];
    return (ceil ? (span + o.stride[size_t(d)] - 1) : span) / o.stride[size_t(d)] + 1;
  };
  std::vector<int64_t> want(2), end = o.pad;
  bool floor_ok = true, ceil_ok = true;
  for (int d = 0; d < 2; ++d) {
    want[size_t(d)] = torch_pool_size(in[2 + d], o.k[d], o.stride[d], o.pad[d], o.ceil);
    floor_ok = floor_ok && onnx_size(d, o.pad[size_t(d)], false) == want[size_t(d)];
    ceil_ok = ceil_ok && onnx_size(d, o.pad[size_t(d)], true) == want[size_t(d)];
  }
  int64_t ceil_mode = 0;
  if (!floor_ok) {
    if (avg)
      n.unsupported("avgpool with ceil: true whose last window extends past the padded " + shape_str({in[2], in[3]}) +
                    " input: ONNX does not define PyTorch's divisor for that window (use ceil: false or an input "
                    "size the windows tile)");
    ceil_mode = 1;
    for (int d = 0; d < 2 && !ceil_ok; ++d)
      while (end[size_t(d)] > 0 && onnx_size(d, end[size_t(d)], true) > want[size_t(d)]) --end[size_t(d)];
    for (int d = 0; d < 2; ++d)
      if (onnx_size(d, end[size_t(d)], true) != want[size_t(d)])
        n.unsupported("no ONNX pooling padding gives PyTorch's ceil-mode output size " + shape_str(want));
  }
  // Average pooling that counts the zero padding (PyTorch's default) is Pad + AveragePool: OpenCV
  // 4.6 ignores count_include_pad (it counts the padding only in files whose producer is
  // "pytorch"), and a zero-padded input is the same average in every runtime.
  std::string x = n.inputs[0];
  std::vector<int64_t> pads = pads_of(o.pad, end);
  const bool padded = std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p > 0; });
  if (avg && o.count_include_pad && padded) {
    const std::vector<int64_t> full{0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]};  // N, C, H, W begins, then ends
    const std::string padded_x = b.fresh(n.spec.name + "/pad");
    if (b.options().opset < 11) {
      auto& p = b.node("Pad", {x}, padded_x, padded_x);
      attr(p, "pads", full);
    } else {
      const std::string pn = b.fresh(n.spec.name + "/pads");
      b.initializer_i64(pn, {8}, full);
      b.node("Pad", {x, pn}, padded_x, padded_x);
    }
    x = padded_x;
    pads.assign(4, 0);
  }
  auto& node = b.node(avg ? "AveragePool" : "MaxPool", {x}, n.out(), n.spec.name);
  attr(node, "kernel_shape", o.k);
  attr(node, "strides", o.stride);
  attr(node, "pads", pads);
  if (ceil_mode) attr(node, "ceil_mode", ceil_mode);
  if (avg && padded && !o.count_include_pad) attr(node, "count_include_pad", int64_t(0));
  return n.out();
}
std::string emit_maxpool(GraphBuilder& b, const ExportNode& n) { return emit_pool(b, n, false); }
std::string emit_avgpool(GraphBuilder& b, const ExportNode& n) { return emit_pool(b, n, true); }

// max_unpool(x, P): MaxPool(P) with its Indices output (ONNX flattens them over N x C x H x W,
// and MaxUnpool reads them so), then MaxUnpool(x, indices). Without an output_shape input ONNX
// unpools to (in - 1) * stride - 2 * pad + k, so only windows that give back P's size export.
std::string emit_max_unpool(GraphBuilder& b, const ExportNode& n) {
  const PoolOptions o = parse_max_unpool2d(n.spec.args);
  const Shape& pooled = n.in_shapes[0];
  const Shape& full = n.in_shapes[1];
  for (int d = 0; d < 2; ++d) {
    const int64_t floor_size = (full[size_t(2 + d)] + 2 * o.pad[size_t(d)] - o.k[size_t(d)]) / o.stride[size_t(d)] + 1;
    const int64_t back = (pooled[size_t(2 + d)] - 1) * o.stride[size_t(d)] - 2 * o.pad[size_t(d)] + o.k[size_t(d)];
    if (floor_size != pooled[size_t(2 + d)] || back != full[size_t(2 + d)])
      n.unsupported("max_unpool to " + shape_str({full[2], full[3]}) + " from " + shape_str({pooled[2], pooled[3]}) +
                    ": ONNX MaxUnpool without output_shape gives (in - 1) * stride - 2 * pad + k (use a size the pool "
                    "windows tile)");
  }
  const std::string base = n.spec.name + "/";
  const std::string values = b.fresh(base + "pooled"), indices = b.fresh(base + "indices");
  auto& pool = b.node("MaxPool", {n.inputs[1]}, values, b.fresh(base + "maxpool"));
  pool.add_output(indices);
  attr(pool, "kernel_shape", o.k);
  attr(pool, "strides", o.stride);
  attr(pool, "pads", pads_of(o.pad, o.pad));
  auto& unpool = b.node("MaxUnpool", {n.inputs[0], indices}, n.out(), n.spec.name);
  attr(unpool, "kernel_shape", o.k);
  attr(unpool, "strides", o.stride);
  // Zero pads are ONNX's default; left out because OpenCV 4.6 refuses a MaxUnpool whose pads
  // attribute has the 4 values ONNX specifies (it expects 2).
  if (o.pad[0] || o.pad[1]) attr(unpool, "pads", pads_of(o.pad, o.pad));
  return n.out();
}

std::string emit_scale(GraphBuilder& b, const ExportNode& n) {
  const std::string factor = b.fresh(n.spec.name + "/factor");
  b.initializer(factor, {1}, {float(parse_scale_factor(n.spec.args))});
  b.node("Mul", {n.inputs[0], factor}, n.out(), n.spec.name);
  return n.out();
}

std::string emit_unary(GraphBuilder& b, const ExportNode& n, const char* op) {
  b.node(op, {n.inputs[0]}, n.out(), n.spec.name);
  return n.out();
}
std::string emit_relu(GraphBuilder& b, const ExportNode& n) { return emit_unary(b, n, "Relu"); }
std::string emit_tanh(GraphBuilder& b, const ExportNode& n) { return emit_unary(b, n, "Tanh"); }
std::string emit_sigmoid(GraphBuilder& b, const ExportNode& n) { return emit_unary(b, n, "Sigmoid"); }
std::string emit_global_avgpool(GraphBuilder& b, const ExportNode& n) { return emit_unary(b, n, "GlobalAveragePool"); }

std::string emit_leaky_relu(GraphBuilder& b, const ExportNode& n) {
  auto& node = b.node("LeakyRelu", {n.inputs[0]}, n.out(), n.spec.name);
  attr(node, "alpha", float(parse_leaky_relu_slope(n.spec.args)));
  return n.out();
}

// ReLU6 = min(max(x, 0), 6). Opset 10: Clip with min/max attributes. From opset 11 Clip takes
// min/max as inputs, which OpenCV 4.6 rejects (as it rejects Min with a constant), so:
// Relu(x) - Relu(x - 6), exact for x <= 12 (x - 6 is exact there) and within an ulp of x above.
std::string emit_relu6(GraphBuilder& b, const ExportNode& n) {
  if (b.options().opset < 11) {
    auto& node = b.node("Clip", {n.inputs[0]}, n.out(), n.spec.name);
    attr(node, "min", 0.f);
    attr(node, "max", 6.f);
    return n.out();
  }
  const std::string base = n.spec.name + "/";
  const std::string r = b.fresh(base + "relu"), six = b.fresh(base + "minus_six"), shifted = b.fresh(base + "shifted"),
                    over = b.fresh(base + "over_six");
  b.node("Relu", {n.inputs[0]}, r, r);
  b.initializer(six, {1}, {-6.f});
  b.node("Add", {n.inputs[0], six}, shifted, shifted);
  b.node("Relu", {shifted}, over, over);
  b.node("Sub", {r, over}, n.out(), n.spec.name);
  return n.out();
}

std::string emit_flatten(GraphBuilder& b, const ExportNode& n) {
  auto& node = b.node("Flatten", {n.inputs[0]}, n.out(), n.spec.name);
  attr(node, "axis", int64_t(1));
  return n.out();
}

std::string emit_passthrough(GraphBuilder&, const ExportNode& n) { return n.inputs[0]; }

std::string emit_lrn(GraphBuilder& b, const ExportNode& n) {
  const LrnParams p = parse_lrn(n.spec.args);
  if (p.size % 2 == 0)
    n.unsupported("LRN with an even size (" + std::to_string(p.size) + "): ONNX centres the window with " +
                  std::to_string((p.size - 1) / 2) + " channels before, PyTorch with " + std::to_string(p.size / 2));
  if (n.in_shapes[0].size() != 4) n.unsupported("LRN export expects an N x C x H x W input, got " + shape_str(n.in_shapes[0]));
  auto& node = b.node("LRN", {n.inputs[0]}, n.out(), n.spec.name);
  attr(node, "size", int64_t(p.size));
  attr(node, "alpha", p.alpha);
  attr(node, "beta", p.beta);
  attr(node, "bias", p.k);
  return n.out();
}

// AdaptiveAvgPool2d: the identity when the size is kept, GlobalAveragePool for 1 x 1, and
// AveragePool with kernel = stride = in / out when the output size divides the input (then
// PyTorch's adaptive windows are exactly those). Other sizes have windows of varying width.
std::string emit_adaptive_avgpool(GraphBuilder& b, const ExportNode& n) {
  const std::vector<int64_t> out = parse_adaptive_avgpool(n.spec.args);
  const Shape& in = n.in_shapes[0];
  if (in[2] == out[0] && in[3] == out[1]) return n.inputs[0];
  if (out[0] == 1 && out[1] == 1) return emit_unary(b, n, "GlobalAveragePool");
  if (in[2] % out[0] || in[3] % out[1])
    n.unsupported("adaptive pooling from " + shape_str({in[2], in[3]}) + " to " + shape_str(out) +
                  " has windows of different sizes (ONNX has no adaptive pooling; it exports when the output size "
                  "divides the input size, e.g. another --input)");
  const std::vector<int64_t> k{in[2] / out[0], in[3] / out[1]};
  auto& node = b.node("AveragePool", {n.inputs[0]}, n.out(), n.spec.name);
  attr(node, "kernel_shape", k);
  attr(node, "strides", k);
  return n.out();
}

std::string emit_add(GraphBuilder& b, const ExportNode& n) {
  std::vector<std::string> terms;
  for (const auto& t : n.inputs)
    if (t != kZeros) terms.push_back(t);
  if (terms.empty()) return kZeros;
  if (terms.size() == 1) return terms[0];
  std::string acc = terms[0];
  for (size_t i = 1; i < terms.size(); ++i) {
    const std::string out = i + 1 == terms.size() ? n.out() : b.fresh(n.spec.name + "/add" + std::to_string(i));
    b.node("Add", {acc, terms[i]}, out, out);
    acc = out;
  }
  return acc;
}

std::string emit_concat(GraphBuilder& b, const ExportNode& n) {
  auto& node = b.node("Concat", n.inputs, n.out(), n.spec.name);
  attr(node, "axis", int64_t(1));
  return n.out();
}

// shortcut: identity (the input), projection (Conv + BatchNormalization, or one Conv with the BN
// folded in), zeros (left out by the add it feeds), or type A: x[:, :, ::s, ::s] with the new
// channels zero-padded, written as one 1x1 Conv with stride s whose weight is the 0/1 matrix
// placing input channel c at output channel (out - C) / 2 + c (exact: every output is one input
// value times 1 plus zeros).
std::string emit_shortcut(GraphBuilder& b, const ExportNode& n) {
  const ShortcutOptions o = parse_shortcut(n.spec.args);
  const int64_t C = n.in_shapes[0][1];
  switch (shortcut_kind(o, C)) {
    case ShortcutKind::identity: return n.inputs[0];
    case ShortcutKind::zero: return kZeros;
    case ShortcutKind::projection: {
      Conv2dOptions c;
      c.out = o.out;
      c.k = {1, 1};
      c.stride = {o.stride, o.stride};
      c.pad = {0, 0};
      c.dilation = {1, 1};
      c.bias = false;
      const std::string conv = n.spec.name + ".0", bn = n.spec.name + ".1";
      const BatchNormOptions bo;  // the shortcut's BN uses the defaults (layers/shortcut.cpp)
      if (b.options().fold_bn) return emit_conv_op(b, n.inputs[0], conv, c, bn, bo, n.out(), conv);
      const std::string mid = emit_conv_op(b, n.inputs[0], conv, c, "", bo, b.fresh(conv), conv);
      return emit_bn_op(b, mid, bn, bo, n.out(), bn);
    }
    case ShortcutKind::pad: {
      Tensor w({o.out, C, 1, 1});
      const int64_t before = (o.out - C) / 2;
      for (int64_t c = 0; c < C; ++c) w[(before + c) * C + c] = 1.f;
      const std::string wn = n.spec.name + ".select";
      b.initializer(wn, w);
      auto& node = b.node("Conv", {n.inputs[0], wn}, n.out(), n.spec.name);
      attr(node, "kernel_shape", std::vector<int64_t>{1, 1});
      attr(node, "strides", std::vector<int64_t>{o.stride, o.stride});
      return n.out();
    }
  }
  return n.inputs[0];
}

}  // namespace

const std::vector<OpEntry>& op_table() {
  static const std::vector<OpEntry> table = {
      {"conv", emit_conv, nullptr},
      {"conv_transpose", emit_conv_transpose, nullptr},
      {"linear", emit_linear, nullptr},
      {"bn", emit_bn, nullptr},
      {"maxpool", emit_maxpool, nullptr},
      {"avgpool", emit_avgpool, nullptr},
      {"max_unpool", emit_max_unpool, nullptr},
      {"scale", emit_scale, nullptr},
      {"relu", emit_relu, nullptr},
      {"relu6", emit_relu6, nullptr},
      {"leaky_relu", emit_leaky_relu, nullptr},
      {"tanh", emit_tanh, nullptr},
      {"sigmoid", emit_sigmoid, nullptr},
      {"flatten", emit_flatten, nullptr},
      {"dropout", emit_passthrough, nullptr},    // eval mode: the identity
      {"dropout2d", emit_passthrough, nullptr},
      {"drop_path", emit_passthrough, nullptr},  // eval mode: the identity
      {"identity", emit_passthrough, nullptr},
      {"lrn", emit_lrn, nullptr},
      {"global_avgpool", emit_global_avgpool, nullptr},
      {"adaptive_avgpool", emit_adaptive_avgpool, nullptr},
      {"add", emit_add, nullptr},
      {"concat", emit_concat, nullptr},
      {"shortcut", emit_shortcut, nullptr},
  };
  return table;
}

}  // namespace cnn::onnx_export
