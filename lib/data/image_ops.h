#pragma once
// 8-bit image operations behind the transforms, each computing exactly what PIL (Pillow 9.4, what
// torchvision's PIL path calls) computes on an RGB or L image: same rounding, same clipping.
#include <cstdint>
#include <vector>

#include "data/image.h"

namespace cnn {

// Buffers reused across calls (one per worker thread).
struct ResizeScratch {
  Image tmp;
  std::vector<int32_t> kx, ky;  // fixed-point coefficients
  std::vector<int> bx, by;      // per output pixel: first input index, count
  std::vector<double> pre;
  std::vector<int32_t> acc;     // one row of sums
};

// dst = the h x w window of src at (top, left); parts outside src are 0 (zero padding).
void crop_pad(const Image& src, int64_t top, int64_t left, int64_t h, int64_t w, Image& dst);

// PIL's convert("L") of an RGB image, in place (ITU-R 601-2 luma, rounded as Pillow's rgb2l); a
// 1-channel image is left as it is.
void to_grayscale(Image& img);

// Mirrors left-right in place.
void hflip(Image& img);

// Bilinear resize to h x w with PIL's antialiasing (Image.resize(..., BILINEAR)): the filter
// widens by the scale factor when shrinking; 22-bit fixed-point coefficients, horizontal pass
// then vertical, each rounded and clipped to 8 bits. h, w >= 1.
void resize_bilinear(const Image& src, int64_t h, int64_t w, Image& dst, ResizeScratch& s);

// ImageEnhance.Brightness / Contrast / Color (saturation) with the given factor, in place
// (Image.blend of the image with black, with its mean grey level, with its greyscale version).
void adjust_brightness(Image& img, float factor);
void adjust_contrast(Image& img, float factor);
void adjust_saturation(Image& img, float factor);
// ImageEnhance.Sharpness: blend with ImageFilter.SMOOTH (3 x 3 kernel 1 1 1 / 1 5 1 / 1 1 1, over
// 13, float sums + 0.5, truncated; the border pixels are kept). `tmp` holds the smoothed image.
void adjust_sharpness(Image& img, float factor, Image& tmp);

}  // namespace cnn
