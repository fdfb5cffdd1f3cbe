#include "data/augment_ops.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numbers>

namespace cnn {

namespace {

// Python's math.radians / math.degrees: one multiplication by the rounded constant.
constexpr double kDegToRad = std::numbers::pi / 180.0;

// Pillow's COORD / FLOOR and FIX (16.16 fixed point) of Geometry.c.
inline int coord(double v) { return v < 0.0 ? -1 : int(v); }
inline int floor_int(double v) { return v < 0.0 ? int(std::floor(v)) : int(v); }
inline int32_t fix16(double v) { return int32_t(floor_int(v * 65536.0 + 0.5)); }

bool fits_fixed(const double a[6], double x, double y) {
  return std::fabs(x * a[0] + y * a[1] + a[2]) < 32768.0 && std::fabs(x * a[3] + y * a[4] + a[5]) < 32768.0;
}

void copy_pixel(const Image& src, int64_t xin, int64_t yin, uint8_t* out) {
  const int64_t C = src.channels;
  std::memcpy(out, src.data() + (yin * src.width + xin) * C, size_t(C));
}

// ImagingScaleAffine (a[1] == a[3] == 0): separable nearest sampling.
void scale_affine(const Image& src, const double a[6], Image& dst) {
  const int64_t W = dst.width, H = dst.height, C = src.channels;
  double xo = a[2] + a[0] * 0.5, yo = a[5] + a[4] * 0.5;
  for (int64_t y = 0; y < H; ++y, yo += a[4]) {
    const int yi = coord(yo);
    if (yi < 0 || yi >= src.height) continue;
    double xx = xo;
    for (int64_t x = 0; x < W; ++x, xx += a[0]) {
      const int xi = coord(xx);
      if (xi >= 0 && xi < src.width) copy_pixel(src, xi, yi, dst.data() + (y * W + x) * C);
    }
  }
}

// Pillow's affine_fixed: 16.16 fixed point, stepped by additions.
void fixed_affine(const Image& src, const double a[6], Image& dst) {
  const int64_t W = dst.width, H = dst.height, C = src.channels;
  const int32_t a0 = fix16(a[0]), a1 = fix16(a[1]), a3 = fix16(a[3]), a4 = fix16(a[4]);
  int32_t a2 = fix16(a[2] + a[0] * 0.5 + a[1] * 0.5), a5 = fix16(a[5] + a[3] * 0.5 + a[4] * 0.5);
  for (int64_t y = 0; y < H; ++y, a2 += a1, a5 += a4) {
    int32_t xx = a2, yy = a5;
    for (int64_t x = 0; x < W; ++x, xx += a0, yy += a3) {
      const int32_t xin = xx >> 16, yin = yy >> 16;  // arithmetic shift: floor
      if (xin >= 0 && xin < src.width && yin >= 0 && yin < src.height)
        copy_pixel(src, xin, yin, dst.data() + (y * W + x) * C);
    }
  }
}

// The floating-point loop Pillow falls back to when the fixed-point range could overflow.
void float_affine(const Image& src, const double a[6], Image& dst) {
  const int64_t W = dst.width, H = dst.height, C = src.channels;
  double xo = a[2] + a[1] * 0.5 + a[0] * 0.5, yo = a[5] + a[4] * 0.5 + a[3] * 0.5;
  for (int64_t y = 0; y < H; ++y, xo += a[1], yo += a[4]) {
    double xx = xo, yy = yo;
    for (int64_t x = 0; x < W; ++x, xx += a[0], yy += a[3]) {
      const int xin = coord(xx), yin = coord(yy);
      if (xin >= 0 && xin < src.width && yin >= 0 && yin < src.height)
        copy_pixel(src, xin, yin, dst.data() + (y * W + x) * C);
    }
  }
}

// torchvision's _get_inverse_affine_matrix with angle 0 and scale 1 (same operations, same order).
void inverse_shear_translate(double cx, double cy, double shear_x_deg, double shear_y_deg, double tx, double ty,
                             double m[6]) {
  const double rot = 0.0 * kDegToRad, sx = shear_x_deg * kDegToRad, sy = shear_y_deg * kDegToRad;
  const double a = std::cos(rot - sy) / std::cos(sy);
  const double b = -std::cos(rot - sy) * std::tan(sx) / std::cos(sy) - std::sin(rot);
  const double c = std::sin(rot - sy) / std::cos(sy);
  const double d = -std::sin(rot - sy) * std::tan(sx) / std::cos(sy) + std::cos(rot);
  const double scale = 1.0;
  m[0] = d / scale, m[1] = -b / scale, m[2] = 0.0 / scale, m[3] = -c / scale, m[4] = a / scale, m[5] = 0.0 / scale;
  m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
  m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
  m[2] += cx;
  m[5] += cy;
}

// Python's round(x, 15): the decimal rounding of the shortest exact representation.
double round15(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15f", v);
  return std::strtod(buf, nullptr);
}

// Python's float %: the result takes the sign of the divisor.
double py_mod(double x, double y) {
  double r = std::fmod(x, y);
  if (r != 0.0) {
    if ((y < 0) != (r < 0)) r += y;
  } else {
    r = std::copysign(0.0, y);
  }
  return r;
}

void apply_lut(Image& img, const uint8_t lut[256]) {
  uint8_t* p = img.data();
  const int64_t n = img.numel();
  for (int64_t i = 0; i < n; ++i) p[i] = lut[p[i]];
}

// The histogram of channel c.
void histogram(const Image& img, int64_t c, int64_t h[256]) {
  std::memset(h, 0, 256 * sizeof(int64_t));
  const int64_t C = img.channels, n = img.height * img.width;
  const uint8_t* p = img.data() + c;
  for (int64_t i = 0; i < n; ++i) ++h[p[i * C]];
}

void apply_channel_lut(Image& img, int64_t c, const uint8_t lut[256]) {
  const int64_t C = img.channels, n = img.height * img.width;
  uint8_t* p = img.data() + c;
  for (int64_t i = 0; i < n; ++i) p[i * C] = lut[p[i * C]];
}

}  // namespace

void affine_nearest(const Image& src, const double m[6], Image& dst) {
  dst.reshape(src.height, src.width, src.channels);
  std::memset(dst.data(), 0, size_t(dst.numel()));  // fillcolor 0
  const double W = double(src.width), H = double(src.height);
  if (m[1] == 0 && m[3] == 0) {
    scale_affine(src, m, dst);
  } else if (fits_fixed(m, 0, 0) && fits_fixed(m, W, H) && fits_fixed(m, 0, H) && fits_fixed(m, W, 0)) {
    fixed_affine(src, m, dst);
  } else {
    float_affine(src, m, dst);
  }
}

void affine_shear_translate(const Image& src, double shear_x_deg, double shear_y_deg, int64_t tx, int64_t ty,
                            bool centered, Image& dst) {
  const double cx = centered ? double(src.width) * 0.5 : 0.0, cy = centered ? double(src.height) * 0.5 : 0.0;
  double m[6];
  inverse_shear_translate(cx, cy, shear_x_deg, shear_y_deg, double(tx), double(ty), m);
  affine_nearest(src, m, dst);
}

void rotate_nearest(const Image& src, double angle_deg, Image& dst) {
  const double angle = py_mod(angle_deg, 360.0);
  const int64_t H = src.height, W = src.width, C = src.channels;
  const bool quarter = (angle == 90.0 || angle == 270.0) && W == H;
  if (angle == 0.0 || angle == 180.0 || quarter) {  // Image.copy / Image.transpose
    dst.reshape(H, W, C);
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x) {
        int64_t sx = x, sy = y;
        if (angle == 180.0) sx = W - 1 - x, sy = H - 1 - y;
        if (angle == 90.0 && quarter) sx = W - 1 - y, sy = x;   // ROTATE_90: counter-clockwise
        if (angle == 270.0 && quarter) sx = y, sy = H - 1 - x;  // ROTATE_270
        copy_pixel(src, sx, sy, dst.data() + (y * W + x) * C);
      }
    return;
  }
  const double cx = double(W) / 2.0, cy = double(H) / 2.0;
  const double r = -(angle * kDegToRad);
  double m[6] = {round15(std::cos(r)), round15(std::sin(r)), 0.0, round15(-std::sin(r)), round15(std::cos(r)), 0.0};
  const double x = -cx - 0, y = -cy - 0;
  m[2] = m[0] * x + m[1] * y + m[2];
  m[5] = m[3] * x + m[4] * y + m[5];
  m[2] += cx;
  m[5] += cy;
  affine_nearest(src, m, dst);
}

void posterize(Image& img, int bits) {
  const int mask = ~((1 << (8 - bits)) - 1);
  uint8_t lut[256];
  for (int i = 0; i < 256; ++i) lut[i] = uint8_t(i & mask);
  apply_lut(img, lut);
}

void solarize(Image& img, double threshold) {
  uint8_t lut[256];
  for (int i = 0; i < 256; ++i) lut[i] = uint8_t(double(i) < threshold ? i : 255 - i);
  apply_lut(img, lut);
}

void invert(Image& img) {
  uint8_t lut[256];
  for (int i = 0; i < 256; ++i) lut[i] = uint8_t(255 - i);
  apply_lut(img, lut);
}

void autocontrast(Image& img) {
  for (int64_t c = 0; c < img.channels; ++c) {
    int64_t h[256];
    histogram(img, c, h);
    int lo = 0, hi = 255;
    while (lo < 255 && !h[lo]) ++lo;
    while (hi > 0 && !h[hi]) --hi;
    if (hi <= lo) continue;  // one value (or an empty image): identity
    const double scale = 255.0 / double(hi - lo), offset = -double(lo) * scale;
    uint8_t lut[256];
    for (int i = 0; i < 256; ++i) {
      const int v = int(double(i) * scale + offset);
      lut[i] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    apply_channel_lut(img, c, lut);
  }
}

void equalize(Image& img) {
  for (int64_t c = 0; c < img.channels; ++c) {
    int64_t h[256];
    histogram(img, c, h);
    int64_t total = 0, last = 0, used = 0;
    for (int i = 0; i < 256; ++i)
      if (h[i]) total += h[i], last = h[i], ++used;
    if (used <= 1) continue;
    const int64_t step = (total - last) / 255;
    if (!step) continue;
    uint8_t lut[256];
    int64_t n = step / 2;
    for (int i = 0; i < 256; ++i) {
      const int64_t v = n / step;
      lut[i] = uint8_t(v > 255 ? 255 : v);
      n += h[i];
    }
    apply_channel_lut(img, c, lut);
  }
}

}  // namespace cnn
