#pragma once
// Adaptive average pooling of one H x W plane to OH x OW, PyTorch's nn.AdaptiveAvgPool2d:
// output row i averages input rows [floor(i*H/OH), ceil((i+1)*H/OH)) (columns likewise).
// Windows may overlap (H not a multiple of OH) or repeat rows (OH > H, upsampling).
#include <cstdint>

namespace cnn {

inline int adaptive_start(int i, int in, int out) { return int(int64_t(i) * in / out); }
inline int adaptive_end(int i, int in, int out) { return int(((int64_t(i) + 1) * in + out - 1) / out); }

// y: OH x OW.
void adaptive_avgpool2d_forward(const float* x, int H, int W, int OH, int OW, float* y);
// dx (H x W) is overwritten: each dy spreads evenly over its window.
void adaptive_avgpool2d_backward(const float* dy, int H, int W, int OH, int OW, float* dx);

}  // namespace cnn
