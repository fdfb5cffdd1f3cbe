// Dispatch to the depthwise kernels of the active ISA (depthwise_impl.h, compiled per ISA).
#include "kernels/depthwise.h"

#include "core/isa.h"

namespace cnn {

// The per-ISA definitions (depthwise_{avx512,avx2,generic}.cpp).
#define CNN_DEPTHWISE_DECLARE(ns)                                                                                 \
  namespace ns {                                                                                                  \
  size_t depthwise_workspace_floats(const ConvGeom& g, int m);                                                   \
  void depthwise_forward_plane(const float* x, const float* w, const float* bias, const ConvGeom& g, int m,       \
                               float* y, float* ws);                                                             \
  void depthwise_backward_data_plane(const float* dy, const float* w, const ConvGeom& g, int m, float* dx,        \
                                     float* ws);                                                                 \
  void depthwise_backward_weight_plane(const float* x, const float* dy, const ConvGeom& g, int m, float* dw,      \
                                       float* ws);                                                               \
  void depthwise_set_simd3x3(bool on);                                                                            \
  void depthwise_forward(const float* x, const float* w, const float* bias, const ConvGeom& g, int64_t N, int C,  \
                         int m, float* y, const OutputEpilogue& e);                                              \
  void depthwise_backward(const float* x, const float* dy, const float* w, const ConvGeom& g, int64_t N, int C,   \
                          int m, float* dx, float* dw);                                                          \
  }
CNN_DEPTHWISE_DECLARE(avx512)
CNN_DEPTHWISE_DECLARE(avx2)
CNN_DEPTHWISE_DECLARE(generic)
#undef CNN_DEPTHWISE_DECLARE

#define CNN_DEPTHWISE_DISPATCH(call)        \
  switch (active_isa()) {                   \
    case Isa::avx512: return avx512::call;  \
    case Isa::avx2: return avx2::call;      \
    case Isa::generic: break;               \
  }                                         \
  return generic::call

size_t depthwise_workspace_floats(const ConvGeom& g, int m) { CNN_DEPTHWISE_DISPATCH(depthwise_workspace_floats(g, m)); }

void depthwise_forward_plane(const float* x, const float* w, const float* bias, const ConvGeom& g, int m, float* y,
                             float* ws) {
  CNN_DEPTHWISE_DISPATCH(depthwise_forward_plane(x, w, bias, g, m, y, ws));
}

void depthwise_backward_data_plane(const float* dy, const float* w, const ConvGeom& g, int m, float* dx, float* ws) {
  CNN_DEPTHWISE_DISPATCH(depthwise_backward_data_plane(dy, w, g, m, dx, ws));
}

void depthwise_backward_weight_plane(const float* x, const float* dy, const ConvGeom& g, int m, float* dw,
                                     float* ws) {
  CNN_DEPTHWISE_DISPATCH(depthwise_backward_weight_plane(x, dy, g, m, dw, ws));
}

void depthwise_set_simd3x3(bool on) {
  avx512::depthwise_set_simd3x3(on);
  avx2::depthwise_set_simd3x3(on);
  generic::depthwise_set_simd3x3(on);
}

void depthwise_forward(const float* x, const float* w, const float* bias, const ConvGeom& g, int64_t N, int C, int m,
                       float* y, const OutputEpilogue& e) {
  CNN_DEPTHWISE_DISPATCH(depthwise_forward(x, w, bias, g, N, C, m, y, e));
}

void depthwise_backward(const float* x, const float* dy, const float* w, const ConvGeom& g, int64_t N, int C, int m,
                        float* dx, float* dw) {
  CNN_DEPTHWISE_DISPATCH(depthwise_backward(x, dy, w, g, N, C, m, dx, dw));
}

#undef CNN_DEPTHWISE_DISPATCH

}  // namespace cnn
