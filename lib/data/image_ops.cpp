#include "data/image_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace cnn {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's Resample.c

inline uint8_t clip8(int32_t ss) {
  const int32_t v = ss >> kPrecisionBits;
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Pillow's precompute_coeffs (bilinear, support 1) + normalize_coeffs_8bpc for one axis.
// bounds[2 * o] = first input index, bounds[2 * o + 1] = count; k has ksize coefficients per output.
int coefficients(int64_t in_size, int64_t out_size, std::vector<int>& bounds, std::vector<int32_t>& k,
                 std::vector<double>& pre) {
  const double scale = double(in_size) / double(out_size);
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  const int ksize = int(std::ceil(support)) * 2 + 1;
  bounds.resize(size_t(out_size * 2));
  k.assign(size_t(out_size * ksize), 0);
  pre.resize(size_t(ksize));
  for (int64_t xx = 0; xx < out_size; ++xx) {
    const double center = (double(xx) + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = int(in_size);
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      double t = (double(x + xmin) - center + 0.5) * ss;
      if (t < 0) t = -t;
      const double w = t < 1.0 ? 1.0 - t : 0.0;
      pre[size_t(x)] = w;
      ww += w;
    }
    int32_t* kk = k.data() + xx * ksize;
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? pre[size_t(x)] / ww : pre[size_t(x)];
      kk[x] = v < 0 ? int32_t(-0.5 + v * (1 << kPrecisionBits)) : int32_t(0.5 + v * (1 << kPrecisionBits));
    }
    bounds[size_t(xx * 2)] = xmin;
    bounds[size_t(xx * 2 + 1)] = xmax;
  }
  return ksize;
}

// ITU-R 601-2 luma as Pillow's rgb2l: (R * 19595 + G * 38470 + B * 7471 + 0x8000) >> 16.
inline uint8_t luma(const uint8_t* p) {
  return uint8_t((uint32_t(p[0]) * 19595 + uint32_t(p[1]) * 38470 + uint32_t(p[2]) * 7471 + 0x8000) >> 16);
}

// Pillow's ImagingBlend(in1 = degenerate, in2 = image, alpha): in1 + alpha * (in2 - in1) in float
// with two roundings (product, then sum), truncated toward zero, clipped only when extrapolating.
// The product is rounded to float explicitly so that no compiler fuses it into an FMA.
inline float blend_value(int in1, int in2, float alpha) {
  const float prod = float(double(alpha) * double(in2 - in1));  // exact in double, then one rounding
  return float(double(in1) + double(prod));
}
inline uint8_t blend(int in1, int in2, float alpha) {
  const float t = blend_value(in1, in2, alpha);
  if (alpha >= 0 && alpha <= 1.0f) return uint8_t(t);
  if (t <= 0.0f) return 0;
  if (t >= 255.0f) return 255;
  return uint8_t(t);
}

}  // namespace

void to_grayscale(Image& img) {
  if (img.channels == 1) return;
  const int64_t n = img.height * img.width;
  uint8_t* p = img.data();
  for (int64_t i = 0; i < n; ++i) p[i] = luma(p + i * img.channels);
  img.channels = 1;
}

void crop_pad(const Image& src, int64_t top, int64_t left, int64_t h, int64_t w, Image& dst) {
  const int64_t C = src.channels;
  dst.reshape(h, w, C);
  uint8_t* out = dst.data();
  const int64_t x0 = std::clamp<int64_t>(-left, 0, w), x1 = std::clamp<int64_t>(src.width - left, 0, w);
  for (int64_t y = 0; y < h; ++y) {
    uint8_t* row = out + y * w * C;
    const int64_t sy = y + top;
    if (sy < 0 || sy >= src.height || x1 <= x0) {
      std::memset(row, 0, size_t(w * C));
      continue;
    }
    std::memset(row, 0, size_t(x0 * C));
    std::memcpy(row + x0 * C, src.data() + (sy * src.width + x0 + left) * C, size_t((x1 - x0) * C));
    std::memset(row + x1 * C, 0, size_t((w - x1) * C));
  }
}

void hflip(Image& img) {
  const int64_t C = img.channels, W = img.width;
  for (int64_t y = 0; y < img.height; ++y) {
    uint8_t* row = img.data() + y * W * C;
    for (int64_t a = 0, b = W - 1; a < b; ++a, --b)
      for (int64_t c = 0; c < C; ++c) std::swap(row[a * C + c], row[b * C + c]);
  }
}

void resize_bilinear(const Image& src, int64_t h, int64_t w, Image& dst, ResizeScratch& s) {
  const int64_t C = src.channels;
  const bool need_h = w != src.width, need_v = h != src.height;
  if (!need_h && !need_v) {
    dst.reshape(h, w, C);
    std::memcpy(dst.data(), src.data(), size_t(src.numel()));
    return;
  }
  const int kh = coefficients(src.width, w, s.bx, s.kx, s.pre);
  const int kv = coefficients(src.height, h, s.by, s.ky, s.pre);
  // Horizontal pass over the rows the vertical pass reads (all of them when there is none).
  const int64_t y_first = need_v ? s.by[0] : 0;
  const int64_t y_last = need_v ? s.by[size_t(h * 2 - 2)] + s.by[size_t(h * 2 - 1)] : src.height;
  const Image* mid = &src;
  int64_t mid_offset = 0;  // row of `mid` that holds source row y_first
  if (need_h) {
    Image& t = need_v ? s.tmp : dst;
    t.reshape(y_last - y_first, w, C);
    for (int64_t y = y_first; y < y_last; ++y) {
      const uint8_t* in = src.data() + y * src.width * C;
      uint8_t* out = t.data() + (y - y_first) * w * C;
      if (C == 3) {  // the common case, with the three sums in registers
        for (int64_t x = 0; x < w; ++x) {
          const int xmin = s.bx[size_t(x * 2)], n = s.bx[size_t(x * 2 + 1)];
          const int32_t* k = s.kx.data() + x * kh;
          const uint8_t* p = in + xmin * 3;
          int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
          for (int i = 0; i < n; ++i) {
            s0 += int32_t(p[i * 3 + 0]) * k[i];
            s1 += int32_t(p[i * 3 + 1]) * k[i];
            s2 += int32_t(p[i * 3 + 2]) * k[i];
          }
          out[x * 3 + 0] = clip8(s0);
          out[x * 3 + 1] = clip8(s1);
          out[x * 3 + 2] = clip8(s2);
        }
        continue;
      }
      for (int64_t x = 0; x < w; ++x) {
        const int xmin = s.bx[size_t(x * 2)], n = s.bx[size_t(x * 2 + 1)];
        const int32_t* k = s.kx.data() + x * kh;
        for (int64_t c = 0; c < C; ++c) {
          int32_t ss = 1 << (kPrecisionBits - 1);
          for (int i = 0; i < n; ++i) ss += int32_t(in[(xmin + i) * C + c]) * k[i];
          out[x * C + c] = clip8(ss);
        }
      }
    }
    mid = &t;
    mid_offset = y_first;
  }
  if (!need_v) return;
  dst.reshape(h, w, C);
  const int64_t row = w * C;
  // Row by row: one tap at a time over the whole row (contiguous, vectorizes); same sums.
  s.acc.resize(size_t(row));
  int32_t* acc = s.acc.data();
  for (int64_t y = 0; y < h; ++y) {
    const int ymin = s.by[size_t(y * 2)] - int(mid_offset), n = s.by[size_t(y * 2 + 1)];
    const int32_t* k = s.ky.data() + y * kv;
    uint8_t* out = dst.data() + y * row;
    const uint8_t* in = mid->data() + int64_t(ymin) * row;
    for (int64_t x = 0; x < row; ++x) acc[x] = 1 << (kPrecisionBits - 1);
    for (int i = 0; i < n; ++i) {
      const int32_t ki = k[i];
      const uint8_t* r = in + i * row;
      for (int64_t x = 0; x < row; ++x) acc[x] += int32_t(r[x]) * ki;
    }
    for (int64_t x = 0; x < row; ++x) out[x] = clip8(acc[x]);
  }
}

void adjust_brightness(Image& img, float factor) {
  if (factor == 1.0f) return;
  uint8_t* p = img.data();
  const int64_t n = img.numel();
  if (factor == 0.0f) {
    std::memset(p, 0, size_t(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) p[i] = blend(0, p[i], factor);
}

void adjust_contrast(Image& img, float factor) {
  if (factor == 1.0f) return;
  const int64_t C = img.channels, HW = img.height * img.width;
  uint8_t* p = img.data();
  // ImageStat's mean of the greyscale image, rounded: int(mean + 0.5).
  uint64_t sum = 0;
  for (int64_t k = 0; k < HW; ++k) sum += C >= 3 ? luma(p + k * C) : p[k * C];
  const int mean = HW ? int(double(sum) / double(HW) + 0.5) : 0;
  const int64_t n = img.numel();
  if (factor == 0.0f) {
    std::memset(p, mean, size_t(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) p[i] = blend(mean, p[i], factor);
}

void adjust_saturation(Image& img, float factor) {
  if (factor == 1.0f || img.channels < 3) return;
  const int64_t C = img.channels, HW = img.height * img.width;
  uint8_t* p = img.data();
  for (int64_t k = 0; k < HW; ++k) {
    uint8_t* px = p + k * C;
    const int g = luma(px);
    for (int64_t c = 0; c < 3; ++c) px[c] = factor == 0.0f ? uint8_t(g) : blend(g, px[c], factor);
  }
}

namespace {

// Pillow's ImagingFilter3x3 sum for one sample: offset, then each row's three products summed
// left to right and added (float throughout; products rounded to float before each sum, so no
// compiler fusion can change a bit).
inline uint8_t smooth_sample(const uint8_t* above, const uint8_t* at, const uint8_t* below, int64_t d, const float* k) {
  auto row = [&](const uint8_t* r, const float* kk) {
    const float p0 = float(r[-d]) * kk[0], p1 = float(r[0]) * kk[1], p2 = float(r[d]) * kk[2];
    return float(p0 + p1) + p2;
  };
  float ss = 0.5f;
  ss += row(below, k);  // Pillow applies kernel[0..2] to the next row, [6..8] to the previous one
  ss += row(at, k + 3);
  ss += row(above, k + 6);
  if (ss <= 0.0f) return 0;
  if (ss >= 255.0f) return 255;
  return uint8_t(ss);
}

}  // namespace

void adjust_sharpness(Image& img, float factor, Image& tmp) {
  if (factor == 1.0f) return;
  const int64_t H = img.height, W = img.width, C = img.channels, row = W * C;
  if (H < 3 || W < 3) return;  // ImagingFilter returns a copy: the blend of an image with itself
  // The kernel as Pillow holds it: each weight divided by the scale 13 in float.
  const float a = 1.0f / 13.0f, b = 5.0f / 13.0f;
  const float k[9] = {a, a, a, a, b, a, a, a, a};
  tmp.reshape(H, W, C);
  const uint8_t* p = img.data();
  uint8_t* q = tmp.data();
  std::memcpy(q, p, size_t(row));
  std::memcpy(q + (H - 1) * row, p + (H - 1) * row, size_t(row));
  for (int64_t y = 1; y < H - 1; ++y) {
    const uint8_t* at = p + y * row;
    uint8_t* out = q + y * row;
    std::memcpy(out, at, size_t(C));
    std::memcpy(out + (W - 1) * C, at + (W - 1) * C, size_t(C));
    for (int64_t i = C; i < (W - 1) * C; ++i) out[i] = smooth_sample(at + i - row, at + i, at + i + row, C, k);
  }
  const int64_t n = img.numel();
  uint8_t* px = img.data();
  if (factor == 0.0f) {
    std::memcpy(px, q, size_t(n));
    return;
  }
  for (int64_t i = 0; i < n; ++i) px[i] = blend(q[i], px[i], factor);
}

}  // namespace cnn
