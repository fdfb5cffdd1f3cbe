#include "report/pictures.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "explain/heatmap.h"
#include "io/png.h"

namespace cnn {

namespace {

// RFC 4648 base64 (no library of the stack offers it).
std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = uint32_t(uint8_t(in[i])) << 16 | uint32_t(uint8_t(in[i + 1])) << 8 | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Image as_rgb(const Image& img) {
  if (img.channels == 3) return img;
  Image out;
  out.reshape(img.height, img.width, 3);
  for (int64_t i = 0; i < img.height * img.width; ++i)
    for (int c = 0; c < 3; ++c) out.data()[3 * i + c] = img.data()[i * img.channels];
  return out;
}

}  // namespace

int64_t upscale_factor(int64_t size, int64_t target) { return size >= target ? 1 : (target + size - 1) / size; }

Image upscale_nearest(const Image& img, int64_t f) {
  if (f <= 1) return img;
  Image out;
  out.reshape(img.height * f, img.width * f, img.channels);
  for (int64_t y = 0; y < out.height; ++y)
    for (int64_t x = 0; x < out.width; ++x)
      for (int64_t c = 0; c < img.channels; ++c)
        out.data()[(y * out.width + x) * img.channels + c] = img.data()[((y / f) * img.width + x / f) * img.channels + c];
  return out;
}

Image tile_grid(const std::vector<Image>& tiles, int64_t columns, int64_t gap) {
  if (tiles.empty()) throw RuntimeError("tile_grid: no tiles");
  const int64_t th = tiles[0].height, tw = tiles[0].width, n = int64_t(tiles.size());
  columns = std::min(columns, n);
  const int64_t rows = (n + columns - 1) / columns;
  Image out;
  out.reshape(gap + rows * (th + gap), gap + columns * (tw + gap), 3);
  std::fill(out.data(), out.data() + out.numel(), uint8_t(224));
  for (int64_t i = 0; i < n; ++i) {
    const Image t = as_rgb(tiles[size_t(i)]);
    const int64_t y0 = gap + (i / columns) * (th + gap), x0 = gap + (i % columns) * (tw + gap);
    for (int64_t y = 0; y < th; ++y)
      std::copy(t.data() + y * tw * 3, t.data() + (y + 1) * tw * 3, out.data() + ((y0 + y) * out.width + x0) * 3);
  }
  return out;
}

Image filter_grid(const Tensor& w, int64_t min_size) {
  const int64_t O = w.dim(0), I = w.dim(1), kh = w.dim(2), kw = w.dim(3);
  const int64_t f = upscale_factor(std::min(kh, kw), min_size);
  std::vector<Image> tiles;
  std::vector<float> plane(size_t(kh * kw));
  for (int64_t o = 0; o < O; ++o) {
    const float* p = w.data() + o * I * kh * kw;
    if (I == 3) {
      tiles.push_back(upscale_nearest(image_of_planes(p, 3, kh, kw), f));
      continue;
    }
    std::fill(plane.begin(), plane.end(), 0.f);
    for (int64_t i = 0; i < I; ++i)
      for (int64_t j = 0; j < kh * kw; ++j) plane[size_t(j)] += p[i * kh * kw + j] / float(I);
    tiles.push_back(upscale_nearest(image_of_planes(plane.data(), 1, kh, kw), f));
  }
  return tile_grid(tiles, std::min<int64_t>(16, int64_t(std::ceil(std::sqrt(double(O))))), 2);
}

Image feature_grid(const float* chw, int64_t C, int64_t H, int64_t W, int64_t max_maps, int64_t min_size) {
  const int64_t n = std::min(C, max_maps), f = upscale_factor(std::min(H, W), min_size);
  std::vector<Image> tiles;
  for (int64_t c = 0; c < n; ++c) tiles.push_back(upscale_nearest(image_of_planes(chw + c * H * W, 1, H, W), f));
  return tile_grid(tiles, std::min<int64_t>(16, int64_t(std::ceil(std::sqrt(double(n))))), 2);
}

std::string png_data_uri(const Image& img) { return "data:image/png;base64," + base64(png_bytes(img)); }

}  // namespace cnn
