#pragma once
// The 8-bit operations of torchvision's AutoAugment / RandAugment / TrivialAugmentWide on PIL
// images (torchvision.transforms.autoaugment._apply_op with NEAREST interpolation and fill 0), each
// computing exactly what Pillow 9.4 computes: the same inverse affine matrix, the same 16.16
// fixed-point sampling, the same lookup tables.
#include <cstdint>

#include "data/image.h"

namespace cnn {

// Image.transform(size, AFFINE, m, NEAREST, fillcolor=0): output pixel (x, y) takes the input
// pixel at m * (x + 0.5, y + 0.5) (truncated), or 0 outside the image. dst gets src's size.
void affine_nearest(const Image& src, const double m[6], Image& dst);

// torchvision F.affine on a PIL image (angle 0, scale 1, shear in degrees, integer translation,
// `centered`: about the image centre, otherwise about (0, 0) as AutoAugment's shears).
void affine_shear_translate(const Image& src, double shear_x_deg, double shear_y_deg, int64_t tx, int64_t ty,
                            bool centered, Image& dst);

// Image.rotate(angle, NEAREST, expand=False, fillcolor=0): counter-clockwise about the centre,
// including Pillow's exact shortcuts for 0, 180 and (square images) 90 / 270 degrees.
void rotate_nearest(const Image& src, double angle_deg, Image& dst);

// ImageOps: posterize keeps the top `bits` bits; solarize inverts values >= threshold; invert.
void posterize(Image& img, int bits);
void solarize(Image& img, double threshold);
void invert(Image& img);
// ImageOps.autocontrast (cutoff 0): each channel stretched so its lowest value becomes 0 and its
// highest 255. ImageOps.equalize: each channel through its cumulative histogram.
void autocontrast(Image& img);
void equalize(Image& img);

}  // namespace cnn
