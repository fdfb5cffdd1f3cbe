#include "data/auto_augment.h"

// torchvision 0.14 AutoAugment._get_policies, entry for entry: {{op, probability, magnitude bin (-1: none)}, ...}.
// (The test compares these tables with torchvision's.)
namespace cnn {

namespace {

using Op = AugmentOp;
using Sub = std::pair<PolicyEntry, PolicyEntry>;

const std::vector<Sub> kImagenet = {
    {{Op::posterize, 0.4, 8}, {Op::rotate, 0.6, 9}},
    {{Op::solarize, 0.6, 5}, {Op::autocontrast, 0.6, -1}},
    {{Op::equalize, 0.8, -1}, {Op::equalize, 0.6, -1}},
    {{Op::posterize, 0.6, 7}, {Op::posterize, 0.6, 6}},
    {{Op::equalize, 0.4, -1}, {Op::solarize, 0.2, 4}},
    {{Op::equalize, 0.4, -1}, {Op::rotate, 0.8, 8}},
    {{Op::solarize, 0.6, 3}, {Op::equalize, 0.6, -1}},
    {{Op::posterize, 0.8, 5}, {Op::equalize, 1.0, -1}},
    {{Op::rotate, 0.2, 3}, {Op::solarize, 0.6, 8}},
    {{Op::equalize, 0.6, -1}, {Op::posterize, 0.4, 6}},
    {{Op::rotate, 0.8, 8}, {Op::color, 0.4, 0}},
    {{Op::rotate, 0.4, 9}, {Op::equalize, 0.6, -1}},
    {{Op::equalize, 0.0, -1}, {Op::equalize, 0.8, -1}},
    {{Op::invert, 0.6, -1}, {Op::equalize, 1.0, -1}},
    {{Op::color, 0.6, 4}, {Op::contrast, 1.0, 8}},
    {{Op::rotate, 0.8, 8}, {Op::color, 1.0, 2}},
    {{Op::color, 0.8, 8}, {Op::solarize, 0.8, 7}},
    {{Op::sharpness, 0.4, 7}, {Op::invert, 0.6, -1}},
    {{Op::shear_x, 0.6, 5}, {Op::equalize, 1.0, -1}},
    {{Op::color, 0.4, 0}, {Op::equalize, 0.6, -1}},
    {{Op::equalize, 0.4, -1}, {Op::solarize, 0.2, 4}},
    {{Op::solarize, 0.6, 5}, {Op::autocontrast, 0.6, -1}},
    {{Op::invert, 0.6, -1}, {Op::equalize, 1.0, -1}},
    {{Op::color, 0.6, 4}, {Op::contrast, 1.0, 8}},
    {{Op::equalize, 0.8, -1}, {Op::equalize, 0.6, -1}},
};
const std::vector<Sub> kCifar10 = {
    {{Op::invert, 0.1, -1}, {Op::contrast, 0.2, 6}},
    {{Op::rotate, 0.7, 2}, {Op::translate_x, 0.3, 9}},
    {{Op::sharpness, 0.8, 1}, {Op::sharpness, 0.9, 3}},
    {{Op::shear_y, 0.5, 8}, {Op::translate_y, 0.7, 9}},
    {{Op::autocontrast, 0.5, -1}, {Op::equalize, 0.9, -1}},
    {{Op::shear_y, 0.2, 7}, {Op::posterize, 0.3, 7}},
    {{Op::color, 0.4, 3}, {Op::brightness, 0.6, 7}},
    {{Op::sharpness, 0.3, 9}, {Op::brightness, 0.7, 9}},
    {{Op::equalize, 0.6, -1}, {Op::equalize, 0.5, -1}},
    {{Op::contrast, 0.6, 7}, {Op::sharpness, 0.6, 5}},
    {{Op::color, 0.7, 7}, {Op::translate_x, 0.5, 8}},
    {{Op::equalize, 0.3, -1}, {Op::autocontrast, 0.4, -1}},
    {{Op::translate_y, 0.4, 3}, {Op::sharpness, 0.2, 6}},
    {{Op::brightness, 0.9, 6}, {Op::color, 0.2, 8}},
    {{Op::solarize, 0.5, 2}, {Op::invert, 0.0, -1}},
    {{Op::equalize, 0.2, -1}, {Op::autocontrast, 0.6, -1}},
    {{Op::equalize, 0.2, -1}, {Op::equalize, 0.6, -1}},
    {{Op::color, 0.9, 9}, {Op::equalize, 0.6, -1}},
    {{Op::autocontrast, 0.8, -1}, {Op::solarize, 0.2, 8}},
    {{Op::brightness, 0.1, 3}, {Op::color, 0.7, 0}},
    {{Op::solarize, 0.4, 5}, {Op::autocontrast, 0.9, -1}},
    {{Op::translate_y, 0.9, 9}, {Op::translate_y, 0.7, 9}},
    {{Op::autocontrast, 0.9, -1}, {Op::solarize, 0.8, 3}},
    {{Op::equalize, 0.8, -1}, {Op::invert, 0.1, -1}},
    {{Op::translate_y, 0.7, 9}, {Op::autocontrast, 0.9, -1}},
};
const std::vector<Sub> kSvhn = {
    {{Op::shear_x, 0.9, 4}, {Op::invert, 0.2, -1}},
    {{Op::shear_y, 0.9, 8}, {Op::invert, 0.7, -1}},
    {{Op::equalize, 0.6, -1}, {Op::solarize, 0.6, 6}},
    {{Op::invert, 0.9, -1}, {Op::equalize, 0.6, -1}},
    {{Op::equalize, 0.6, -1}, {Op::rotate, 0.9, 3}},
    {{Op::shear_x, 0.9, 4}, {Op::autocontrast, 0.8, -1}},
    {{Op::shear_y, 0.9, 8}, {Op::invert, 0.4, -1}},
    {{Op::shear_y, 0.9, 5}, {Op::solarize, 0.2, 6}},
    {{Op::invert, 0.9, -1}, {Op::autocontrast, 0.8, -1}},
    {{Op::equalize, 0.6, -1}, {Op::rotate, 0.9, 3}},
    {{Op::shear_x, 0.9, 4}, {Op::solarize, 0.3, 3}},
    {{Op::shear_y, 0.8, 8}, {Op::invert, 0.7, -1}},
    {{Op::equalize, 0.9, -1}, {Op::translate_y, 0.6, 6}},
    {{Op::invert, 0.9, -1}, {Op::equalize, 0.6, -1}},
    {{Op::contrast, 0.3, 3}, {Op::rotate, 0.8, 4}},
    {{Op::invert, 0.8, -1}, {Op::translate_y, 0.0, 2}},
    {{Op::shear_y, 0.7, 6}, {Op::solarize, 0.4, 8}},
    {{Op::invert, 0.6, -1}, {Op::rotate, 0.8, 4}},
    {{Op::shear_y, 0.3, 7}, {Op::translate_x, 0.9, 3}},
    {{Op::shear_x, 0.1, 6}, {Op::invert, 0.6, -1}},
    {{Op::solarize, 0.7, 2}, {Op::translate_y, 0.6, 7}},
    {{Op::shear_y, 0.8, 4}, {Op::invert, 0.8, -1}},
    {{Op::shear_x, 0.7, 9}, {Op::translate_y, 0.8, 3}},
    {{Op::shear_y, 0.8, 5}, {Op::autocontrast, 0.7, -1}},
    {{Op::shear_x, 0.7, 2}, {Op::invert, 0.1, -1}},
};

}  // namespace

const std::vector<std::pair<PolicyEntry, PolicyEntry>>& autoaugment_policy(AutoAugmentPolicy policy) {
  switch (policy) {
    case AutoAugmentPolicy::cifar10: return kCifar10;
    case AutoAugmentPolicy::svhn: return kSvhn;
    default: return kImagenet;
  }
}

}  // namespace cnn
