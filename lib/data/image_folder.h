#pragma once
// Class-folder datasets, as torchvision's ImageFolder reads them (the ImageNet layout):
// <root>/<split>/<class>/**/<file>.{jpg,jpeg,png,bmp,ppm,pgm} (extensions in any case). Classes are
// the folder names sorted (label = position), files are sorted by folder then name. Images are
// decoded when read (data/decode.h), so samples differ in size.
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/decode.h"

namespace cnn {

class ImageFolderDataset : public Dataset {
 public:
  // split: "train" or "val". `classes`: the class folder names giving the labels (empty: this
  // split's own folders); a folder of the split that is not among them is an error.
  // `names_file`: optional "<folder> <display name>" lines. `limit` > 0 keeps the first files.
  // `channels`: 3 (RGB, PIL's convert("RGB")) or 1 (grayscale, PIL's convert("L")).
  ImageFolderDataset(const std::string& root, const std::string& split, const std::vector<std::string>& classes,
                     const std::string& names_file, int64_t limit, const DecodeLimits& limits = {},
                     int channels = 3);

  int64_t size() const override { return int64_t(files_.size()); }
  int32_t label(int64_t i) const override { return labels_[size_t(i)]; }
  int num_classes() const override { return int(classes_.size()); }
  const std::vector<std::string>& class_names() const override { return names_; }
  int64_t channels() const override { return channels_; }
  void read(int64_t i, Image& out) const override;
  std::string sample_name(int64_t i) const override { return files_[size_t(i)]; }

  const std::vector<std::string>& classes() const { return classes_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  std::vector<std::string> classes_, names_, files_;
  std::vector<int32_t> labels_;
  DecodeLimits limits_;
  int channels_ = 3;
};

// The sorted class folders of <root>/<split> (throws RuntimeError naming the folder if missing).
std::vector<std::string> class_folders(const std::string& root, const std::string& split);

}  // namespace cnn
