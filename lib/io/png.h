#pragma once
// PNG files of 8-bit images (stb_image_write), for heatmap overlays, filter grids and charts.
#include <string>

#include "data/image.h"

namespace cnn {

// The PNG file's bytes (1 = gray, 3 = RGB, 4 = RGBA channels).
std::string png_bytes(const Image& img);
// Writes the PNG atomically (temp file, fsync, rename); RuntimeError naming `path` on failure.
void write_png(const std::string& path, const Image& img);

}  // namespace cnn
