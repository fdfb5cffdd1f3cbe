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
void maxpool2d_forward(const float* x, const PoolGeom& g, float* y, int32_t* argmax);
// dx (H x W) is overwritten.
void maxpool2d_backward(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx);

// Max unpooling (PyTorch's MaxUnpool2d) on one plane: y (H x W) is zeroed, then
// y[argmax[i]] = x[i] for the OH x OW entries of x in order (a later entry wins on a repeated index).
void maxunpool2d_forward(const float* x, const int32_t* argmax, const PoolGeom& g, float* y);
// dx (OH x OW) is overwritten: dx[i] = dy[argmax[i]].
void maxunpool2d_backward(const float* dy, const int32_t* argmax, const PoolGeom& g, float* dx);

// The vectorized part of one output row of a 2x2 stride-2 max pool (AVX2): outputs [0, returned)
// of rows r0/r1, argmax relative to `base`; nan_count grows when a window held a NaN.
int maxpool2x2_row_avx2(const float* r0, const float* r1, int W, int OW, int32_t base, float* yo, int32_t* ao,
                        int& nan_count);

void avgpool2d_forward(const float* x, const PoolGeom& g, float* y);
// dx (H x W) is overwritten.
void avgpool2d_backward(const float* dy, const PoolGeom& g, float* dx);

}  // namespace cnn
