#pragma once
// 2-D max and average pooling on one H x W plane, PyTorch semantics (padding, ceil mode,
// count_include_pad). Callers loop over N*C planes.
#include <cstdint>

namespace cnn {

struct PoolGeom {
  int H = 0, W = 0;
  int KH = 1, KW = 1, SH = 1, SW = 1, PH = 0, PW = 0;
  bool ceil_mode = false;
  bool count_include_pad = true;   // average pooling only
  int OH = 0, OW = 0;              // filled by finish()
  void finish();
};

// PyTorch's output size: floor/ceil((in + 2p - k) / s) + 1, and in ceil mode the last window must
// start inside the input or left padding.
int pool_output_size(int in, int k, int s, int p, bool ceil_mode);

// y: OH x OW; argmax: index into the plane (ih * W + iw) of each maximum (first one on ties, NaN wins).
// argmax null: the values only (inference, no backward follows), the same y.
// Runs the vector kernel of the active ISA (pool_impl.h); a plane holding a NaN goes to the naive loop.
void maxpool2d_forward(const float* x, const PoolGeom& g, float* y, int32_t* argmax);
// dx (H x W) is overwritten.
void maxpool2d_backward(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx);
// The same for a max pool that took the ReLU before it (y = relu(max)): only the outputs with
// y > 0 pass their gradient on (the others' maxima were <= 0: the ReLU's mask zeroes them).
void maxpool2d_backward_relu(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g, float* dx);
// Both run the vector kernel of the active ISA where it has one (the 2x2 stride-2 window on small
// planes whose rows split into whole pairs: each cell written once), else the naive loops below.

// Max unpooling (PyTorch's MaxUnpool2d) on one plane: y (H x W) is zeroed, then
// y[argmax[i]] = x[i] for the OH x OW entries of x in order (a later entry wins on a repeated index).
void maxunpool2d_forward(const float* x, const int32_t* argmax, const PoolGeom& g, float* y);
// dx (OH x OW) is overwritten: dx[i] = dy[argmax[i]].
void maxunpool2d_backward(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx);

void avgpool2d_forward(const float* x, const PoolGeom& g, float* y);
// dx (H x W) is overwritten.
void avgpool2d_backward(const float* dy, const PoolGeom& g, float* dx);

// The naive loops, twins of the vector kernels (which give the same bits): the fallback for
// planes holding a NaN and for the shapes without a vector kernel, and the reference of the tests.
void maxpool2d_forward_naive(const float* x, const PoolGeom& g, float* y, int32_t* argmax);
void maxpool2d_backward_naive(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx);
void maxpool2d_backward_relu_naive(const float* dy, const float* y, const int32_t* argmax, const PoolGeom& g,
                                   float* dx);
void avgpool2d_forward_naive(const float* x, const PoolGeom& g, float* y);
void avgpool2d_backward_naive(const float* dy, const PoolGeom& g, float* dx);

}  // namespace cnn
