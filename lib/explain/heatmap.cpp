#include "explain/heatmap.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace cnn {

namespace {
uint8_t to_byte(float v) { return uint8_t(std::lround(std::clamp(v, 0.f, 1.f) * 255.f)); }
}  // namespace

void resize_bilinear(const float* in, int64_t h, int64_t w, float* out, int64_t out_h, int64_t out_w) {
  auto source = [](int64_t i, int64_t n_in, int64_t n_out, int64_t& i0, int64_t& i1, float& t) {
    const double x = std::max(0.0, (double(i) + 0.5) * double(n_in) / double(n_out) - 0.5);
    i0 = std::min(int64_t(x), n_in - 1);
    i1 = std::min(i0 + 1, n_in - 1);
    t = float(x - double(i0));
  };
  for (int64_t y = 0; y < out_h; ++y) {
    int64_t y0, y1;
    float ty;
    source(y, h, out_h, y0, y1, ty);
    for (int64_t x = 0; x < out_w; ++x) {
      int64_t x0, x1;
      float tx;
      source(x, w, out_w, x0, x1, tx);
      const float top = in[y0 * w + x0] * (1 - tx) + in[y0 * w + x1] * tx;
      const float bottom = in[y1 * w + x0] * (1 - tx) + in[y1 * w + x1] * tx;
      out[y * out_w + x] = top * (1 - ty) + bottom * ty;
    }
  }
}

Tensor cam_heatmap(const float* map, int64_t h, int64_t w, int64_t out_h, int64_t out_w) {
  std::vector<float> r(size_t(h * w));
  for (size_t i = 0; i < r.size(); ++i) r[i] = std::max(map[i], 0.f);
  const float lo = *std::min_element(r.begin(), r.end());
  for (float& v : r) v -= lo;
  const float hi = *std::max_element(r.begin(), r.end());
  for (float& v : r) v /= 1e-7f + hi;
  Tensor out(Shape{out_h, out_w});
  resize_bilinear(r.data(), h, w, out.data(), out_h, out_w);
  return out;
}

void jet_rgb(float v, uint8_t rgb[3]) {
  const float x = std::clamp(v, 0.f, 1.f);
  rgb[0] = to_byte(1.5f - std::fabs(4 * x - 3));
  rgb[1] = to_byte(1.5f - std::fabs(4 * x - 2));
  rgb[2] = to_byte(1.5f - std::fabs(4 * x - 1));
}

Image jet_image(const Tensor& heat) {
  Image out;
  out.reshape(heat.dim(0), heat.dim(1), 3);
  for (int64_t i = 0; i < heat.numel(); ++i) jet_rgb(heat[i], out.data() + 3 * i);
  return out;
}

Image overlay_heatmap(const Image& base, const Tensor& heat, float image_weight) {
  if (base.height != heat.dim(0) || base.width != heat.dim(1) || (base.channels != 1 && base.channels != 3))
    throw RuntimeError("overlay: the image and the heatmap differ in size");
  Image out = jet_image(heat);
  for (int64_t i = 0; i < heat.numel(); ++i)
    for (int c = 0; c < 3; ++c) {
      const float b = base.data()[i * base.channels + (base.channels == 3 ? c : 0)];
      uint8_t& o = out.data()[3 * i + c];
      o = uint8_t(std::lround(image_weight * b + (1 - image_weight) * float(o)));
    }
  return out;
}

Image image_of_planes(const float* chw, int64_t channels, int64_t height, int64_t width) {
  const int64_t n = channels * height * width;
  const auto [lo, hi] = std::minmax_element(chw, chw + n);
  const float range = *hi > *lo ? *hi - *lo : 1.f;
  Image out;
  out.reshape(height, width, channels);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t i = 0; i < height * width; ++i)
      out.data()[i * channels + c] = to_byte((chw[c * height * width + i] - *lo) / range);
  return out;
}

}  // namespace cnn
