#include "kernels/adaptive_pool.h"

#include <algorithm>

namespace cnn {

void adaptive_avgpool2d_forward(const float* x, int H, int W, int OH, int OW, float* y) {
  if (OH == 1 && OW == 1) {  // global average
    const int64_t n = int64_t(H) * W;
    float s = 0.f;
    for (int64_t i = 0; i < n; ++i) s += x[i];
    y[0] = s / float(n);
    return;
  }
  for (int oh = 0; oh < OH; ++oh) {
    const int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
    for (int ow = 0; ow < OW; ++ow) {
      const int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
      float s = 0.f;
      for (int h = h0; h < h1; ++h)
        for (int w = w0; w < w1; ++w) s += x[int64_t(h) * W + w];
      y[int64_t(oh) * OW + ow] = s / float((h1 - h0) * (w1 - w0));
    }
  }
}

void adaptive_avgpool2d_backward(const float* dy, int H, int W, int OH, int OW, float* dx) {
  const int64_t n = int64_t(H) * W;
  if (OH == 1 && OW == 1) {
    std::fill(dx, dx + n, dy[0] / float(n));
    return;
  }
  std::fill(dx, dx + n, 0.f);
  for (int oh = 0; oh < OH; ++oh) {
    const int h0 = adaptive_start(oh, H, OH), h1 = adaptive_end(oh, H, OH);
    for (int ow = 0; ow < OW; ++ow) {
      const int w0 = adaptive_start(ow, W, OW), w1 = adaptive_end(ow, W, OW);
      const float g = dy[int64_t(oh) * OW + ow] / float((h1 - h0) * (w1 - w0));
      for (int h = h0; h < h1; ++h)
        for (int w = w0; w < w1; ++w) dx[int64_t(h) * W + w] += g;
    }
  }
}

}  // namespace cnn
