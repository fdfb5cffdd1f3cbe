#pragma once
// Raster pictures for the report: grids of tiles (filters, feature maps, overlays), nearest-
// neighbour upscaling of small images, and PNG data URIs.
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/image.h"

namespace cnn {

Image upscale_nearest(const Image& img, int64_t factor);
// The smallest factor that makes `size` at least `target` pixels (1 if it already is).
int64_t upscale_factor(int64_t size, int64_t target);

// Tiles of one size, `columns` per row, `gap` pixels apart on a light gray background, as RGB.
Image tile_grid(const std::vector<Image>& tiles, int64_t columns, int64_t gap);

// The filters of a convolution weight [O, I, kh, kw], each min-max scaled on its own: RGB when
// I = 3, else the mean over the input channels as gray. At least `min_size` pixels per tile.
Image filter_grid(const Tensor& weight, int64_t min_size);

// The first `max_maps` channels of one C x H x W activation, each min-max scaled on its own, gray.
Image feature_grid(const float* chw, int64_t channels, int64_t height, int64_t width, int64_t max_maps,
                   int64_t min_size);

// "data:image/png;base64,..."
std::string png_data_uri(const Image& img);

}  // namespace cnn
