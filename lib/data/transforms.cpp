#include "data/transforms.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "config/recipe_transforms.h"
#include "core/error.h"

namespace cnn {

namespace {

int64_t size_h(const TransformSpec& t) { return t.size[0]; }
int64_t size_w(const TransformSpec& t) { return t.size.size() == 2 ? t.size[1] : t.size[0]; }

// Python's round(): half to even (std::nearbyint in the default rounding mode).
int64_t py_round(double v) { return int64_t(std::nearbyint(v)); }

// torchvision Resize([s]): the shorter side becomes s, the longer int(s * long / short).
void resized_size(const TransformSpec& t, int64_t h, int64_t w, int64_t& oh, int64_t& ow) {
  if (t.size.size() == 2) {
    oh = t.size[0], ow = t.size[1];
    return;
  }
  const int64_t s = t.size[0];
  if (w <= h) {
    ow = s;
    oh = int64_t(double(s * h) / double(w));
  } else {
    oh = s;
    ow = int64_t(double(s * w) / double(h));
  }
}

// torchvision RandomResizedCrop.get_params: up to 10 tries at a random area and aspect ratio,
// then the largest centred crop within the ratio range.
}  // namespace

void random_resized_crop_params(const TransformSpec& t, int64_t height, int64_t width, Rng& rng, int64_t& top,
                                int64_t& left, int64_t& h, int64_t& w) {
  const double area = double(height) * double(width);
  const double lr0 = std::log(t.ratio[0]), lr1 = std::log(t.ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * (t.scale[0] + (t.scale[1] - t.scale[0]) * uniform01(rng));
    const double aspect = std::exp(lr0 + (lr1 - lr0) * uniform01(rng));
    const int64_t cw = py_round(std::sqrt(target_area * aspect));
    const int64_t ch = py_round(std::sqrt(target_area / aspect));
    if (0 < cw && cw <= width && 0 < ch && ch <= height) {
      top = int64_t(rng.below(uint64_t(height - ch + 1)));
      left = int64_t(rng.below(uint64_t(width - cw + 1)));
      h = ch, w = cw;
      return;
    }
  }
  const double in_ratio = double(width) / double(height);
  if (in_ratio < t.ratio[0]) {
    w = width;
    h = py_round(double(w) / t.ratio[0]);
  } else if (in_ratio > t.ratio[1]) {
    h = height;
    w = py_round(double(h) * t.ratio[1]);
  } else {
    w = width, h = height;
  }
  top = (height - h) / 2;
  left = (width - w) / 2;
}

namespace {

// torchvision F.center_crop: zero padding (left/top get the smaller half) when the crop is larger.
int64_t center_offset(int64_t size, int64_t crop) {
  if (crop > size) return -((crop - size) / 2);
  return py_round(double(size - crop) / 2.0);
}

// torchvision RandomErasing.get_params + F.erase on C x H x W floats.
void random_erase(const TransformSpec& t, float* x, int64_t C, int64_t H, int64_t W, Rng& rng) {
  if (!(uniform01(rng) < t.p)) return;
  const double area = double(H) * double(W);
  const double lr0 = std::log(t.ratio[0]), lr1 = std::log(t.ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double erase_area = area * (t.scale[0] + (t.scale[1] - t.scale[0]) * uniform01(rng));
    const double aspect = std::exp(lr0 + (lr1 - lr0) * uniform01(rng));
    const int64_t h = py_round(std::sqrt(erase_area * aspect));
    const int64_t w = py_round(std::sqrt(erase_area / aspect));
    if (!(h < H && w < W)) continue;
    const int64_t top = int64_t(rng.below(uint64_t(H - h + 1)));
    const int64_t left = int64_t(rng.below(uint64_t(W - w + 1)));
    for (int64_t c = 0; c < C; ++c)
      for (int64_t y = top; y < top + h; ++y) std::fill_n(x + (c * H + y) * W + left, w, float(t.value));
    return;
  }
}

// Cutout (DeVries & Taylor 2017): a size x size square of zeros at a random centre, clipped.
void cutout(const TransformSpec& t, float* x, int64_t C, int64_t H, int64_t W, Rng& rng) {
  if (!(uniform01(rng) < t.p)) return;
  const int64_t s = t.size[0];
  const int64_t cy = int64_t(rng.below(uint64_t(H))), cx = int64_t(rng.below(uint64_t(W)));
  const int64_t y0 = std::clamp<int64_t>(cy - s / 2, 0, H), y1 = std::clamp<int64_t>(cy + s - s / 2, 0, H);
  const int64_t x0 = std::clamp<int64_t>(cx - s / 2, 0, W), x1 = std::clamp<int64_t>(cx + s - s / 2, 0, W);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = y0; y < y1; ++y) std::fill(x + (c * H + y) * W + x0, x + (c * H + y) * W + x1, 0.0f);
}

float channel_value(const std::vector<double>& v, int64_t c) { return float(v.size() == 1 ? v[0] : v[size_t(c)]); }

}  // namespace

Pipeline::Pipeline(const std::vector<TransformSpec>& specs, int64_t channels, const std::string& field)
    : specs_(specs), channels_(channels) {
  first_float_ = specs_.size();
  for (size_t i = 0; i < specs_.size(); ++i) {
    const TransformSpec& t = specs_[i];
    if (t.type == "normalize") {
      auto ok = [&](size_t n) { return n == 1 || int64_t(n) == channels; };
      if (!ok(t.mean.size()) || !ok(t.std.size()))
        throw ConfigError(fmt::format("{}.{}.normalize: mean and std need 1 or {} values for this {}-channel dataset",
                                      field, i, channels, channels));
    }
    if (!cfg::is_byte_transform(t.type) && first_float_ == specs_.size()) first_float_ = i;
  }
  lut_normalizes_ = first_float_ < specs_.size() && specs_[first_float_].type == "normalize";
  lut_.resize(size_t(channels * 256));
  for (int64_t c = 0; c < channels; ++c) {
    for (int u = 0; u < 256; ++u) {
      float v = float(u) / 255.0f;  // ToTensor
      if (lut_normalizes_) {
        const TransformSpec& n = specs_[first_float_];
        v = (v - channel_value(n.mean, c)) / channel_value(n.std, c);  // Normalize: sub_(mean).div_(std)
      }
      lut_[size_t(c * 256 + u)] = v;
    }
  }
}

Shape Pipeline::output_shape(int64_t h, int64_t w) const {
  for (size_t i = 0; i < first_float_; ++i) {
    const TransformSpec& t = specs_[i];
    if (t.type == "random_crop" || t.type == "center_crop" || t.type == "random_resized_crop") {
      h = size_h(t), w = size_w(t);
    } else if (t.type == "resize") {
      if (t.size.size() == 2) {
        h = t.size[0], w = t.size[1];
      } else if (h > 0 && w > 0) {
        resized_size(t, h, w, h, w);
      } else {
        h = w = 0;
      }
    }
  }
  return {channels_, h, w};
}

void Pipeline::apply_bytes(Image& img, TransformScratch& s, Rng& rng) const {
  for (size_t i = 0; i < first_float_; ++i) {
    const TransformSpec& t = specs_[i];
    if (t.type == "hflip") {
      if (uniform01(rng) < t.p) hflip(img);
    } else if (t.type == "random_crop") {
      const int64_t th = size_h(t), tw = size_w(t);
      const int64_t ph = img.height + 2 * t.pad, pw = img.width + 2 * t.pad;
      if (th > ph || tw > pw)
        throw RuntimeError(fmt::format("random_crop: the crop {}x{} is larger than the {}x{} image (padded by {})",
                                       th, tw, img.height, img.width, t.pad));
      const int64_t top = ph == th ? 0 : int64_t(rng.below(uint64_t(ph - th + 1)));
      const int64_t left = pw == tw ? 0 : int64_t(rng.below(uint64_t(pw - tw + 1)));
      crop_pad(img, top - t.pad, left - t.pad, th, tw, s.a);
      std::swap(img, s.a);
    } else if (t.type == "center_crop") {
      const int64_t th = size_h(t), tw = size_w(t);
      if (th == img.height && tw == img.width) continue;
      crop_pad(img, center_offset(img.height, th), center_offset(img.width, tw), th, tw, s.a);
      std::swap(img, s.a);
    } else if (t.type == "resize") {
      int64_t oh = 0, ow = 0;
      resized_size(t, img.height, img.width, oh, ow);
      if (oh == img.height && ow == img.width) continue;
      resize_bilinear(img, oh, ow, s.a, s.resize);
      std::swap(img, s.a);
    } else if (t.type == "random_resized_crop") {
      int64_t top = 0, left = 0, h = 0, w = 0;
      random_resized_crop_params(t, img.height, img.width, rng, top, left, h, w);
      crop_pad(img, top, left, h, w, s.b);
      resize_bilinear(s.b, size_h(t), size_w(t), s.a, s.resize);
      std::swap(img, s.a);
    } else if (t.type == "color_jitter") {
      int order[3] = {0, 1, 2};
      shuffle(order, 3, rng);
      float f[3] = {1, 1, 1};
      const double* ranges[3] = {t.brightness, t.contrast, t.saturation};
      for (int k = 0; k < 3; ++k)
        if (ranges[k][0] != 1.0 || ranges[k][1] != 1.0)
          f[k] = float(ranges[k][0] + (ranges[k][1] - ranges[k][0]) * uniform01(rng));
      for (int k : order) {
        if (k == 0) adjust_brightness(img, f[0]);
        if (k == 1) adjust_contrast(img, f[1]);
        if (k == 2) adjust_saturation(img, f[2]);
      }
    } else if (cfg::is_auto_augment(t.type)) {
      choose_augment_steps(t, img.height, img.width, rng, s.augment_steps);
      for (const AugmentStep& step : s.augment_steps) apply_augment_step(step, img, s.a);
    }
  }
}

void Pipeline::apply_floats(const Image& img, Rng& rng, float* out) const {
  const int64_t C = img.channels, H = img.height, W = img.width, HW = H * W;
  const uint8_t* px = img.data();
  if (C == 1) {
    const float* lut = lut_.data();
    for (int64_t k = 0; k < HW; ++k) out[k] = lut[px[k]];
  } else {
    for (int64_t c = 0; c < C; ++c) {
      const float* lut = lut_.data() + c * 256;
      float* o = out + c * HW;
      for (int64_t k = 0; k < HW; ++k) o[k] = lut[px[k * C + c]];
    }
  }
  for (size_t i = first_float_ + (lut_normalizes_ ? 1 : 0); i < specs_.size(); ++i) {
    const TransformSpec& t = specs_[i];
    if (t.type == "normalize") {
      for (int64_t c = 0; c < C; ++c) {
        const float m = channel_value(t.mean, c), sd = channel_value(t.std, c);
        float* o = out + c * HW;
        for (int64_t k = 0; k < HW; ++k) o[k] = (o[k] - m) / sd;
      }
    } else if (t.type == "random_erasing") {
      random_erase(t, out, C, H, W, rng);
    } else if (t.type == "cutout") {
      cutout(t, out, C, H, W, rng);
    }
  }
}

}  // namespace cnn
