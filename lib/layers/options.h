#pragma once
// The parsed options of the layer kinds whose settings someone other than the layer needs (the
// ONNX exporter). Each parse_* reads and validates a layer's LayerArgs exactly as its factory
// does (the factory calls it), so defaults and checks live in one place.
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/lrn.h"

namespace cnn {

class LayerArgs;

struct Conv2dOptions {        // conv
  int64_t out = 0;
  std::vector<int64_t> k, stride, pad, dilation;  // {H, W} each; pad is symmetric per axis
  int64_t groups = 1;
  bool bias = true;
};
Conv2dOptions parse_conv2d(const LayerArgs& args);

struct ConvTransposeOptions {  // conv_transpose
  int64_t out = 0;
  std::vector<int64_t> k, stride, pad, output_pad, dilation;
  int64_t groups = 1;
  bool bias = true;
};
ConvTransposeOptions parse_conv_transpose2d(const LayerArgs& args);

struct LinearOptions {        // linear
  int64_t out = 0;
  bool bias = true;
};
LinearOptions parse_linear(const LayerArgs& args);

struct BatchNormOptions {     // bn
  double eps = 1e-5, momentum = 0.1;
  bool affine = true, zero_init = false;
};
BatchNormOptions parse_batchnorm(const LayerArgs& args);

struct PoolOptions {          // maxpool, avgpool
  std::vector<int64_t> k, stride, pad;
  bool ceil = false;
  bool count_include_pad = true;  // avgpool only
};
PoolOptions parse_pool2d(const LayerArgs& args, bool avg);
// max_unpool: the window the model expander copied from the max pool named by `indices`.
PoolOptions parse_max_unpool2d(const LayerArgs& args);

LrnParams parse_lrn(const LayerArgs& args);                    // lrn
double parse_leaky_relu_slope(const LayerArgs& args);          // leaky_relu
double parse_scale_factor(const LayerArgs& args);              // scale
std::vector<int64_t> parse_adaptive_avgpool(const LayerArgs& args);  // adaptive_avgpool: {OH, OW}

struct ShortcutOptions {      // shortcut
  int64_t out = 0, stride = 1;
  std::string type = "B";     // A | B | identity
};
ShortcutOptions parse_shortcut(const LayerArgs& args);
// What a shortcut computes for an input of `in_channels` channels (decided at its first infer()):
//   identity: the input (out == in_channels and stride 1); projection: 1x1 conv + BN (type B);
//   pad: strided subsample + zero channels (type A); zero: no shortcut, zeros (type identity).
enum class ShortcutKind { identity, projection, pad, zero };
ShortcutKind shortcut_kind(const ShortcutOptions& o, int64_t in_channels);

}  // namespace cnn
