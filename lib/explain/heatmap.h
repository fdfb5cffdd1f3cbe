#pragma once
// From a raw class activation map to pictures: ReLU, min-max normalization and bilinear
// upsampling (pytorch-grad-cam's scale_cam_image: cv2.resize, i.e. half-pixel centres, the same
// as torch's interpolate(mode="bilinear", align_corners=False)), the JET colormap and overlays.
#include <cstdint>

#include "core/tensor.h"
#include "data/image.h"

namespace cnn {

// map: h x w floats. Returns out_h x out_w values in [0, 1]:
// r = relu(map); r = (r - min r) / (1e-7 + max(r - min r)); bilinear resize.
Tensor cam_heatmap(const float* map, int64_t h, int64_t w, int64_t out_h, int64_t out_w);

// Bilinear resize of one h x w plane with half-pixel centres (edges clamped), as cv2.resize.
void resize_bilinear(const float* in, int64_t h, int64_t w, float* out, int64_t out_h, int64_t out_w);

// The JET colormap (blue - cyan - yellow - red) of v in [0, 1] as 8-bit RGB.
void jet_rgb(float v, uint8_t rgb[3]);

// RGB image: image_weight * base + (1 - image_weight) * jet(heat), base gray or RGB of heat's size.
Image overlay_heatmap(const Image& base, const Tensor& heat, float image_weight);

// The JET picture of an h x w map of values in [0, 1].
Image jet_image(const Tensor& heat);

// A C x H x W float plane set (C = 1 or 3) as an 8-bit image, min-max scaled over all values:
// how inputs given as .npy (already normalized) and filters are shown.
Image image_of_planes(const float* chw, int64_t channels, int64_t height, int64_t width);

}  // namespace cnn
