#include "data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "data/decode.h"
#include "data/image_ops.h"

namespace cnn {

namespace fs = std::filesystem;

namespace {

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  for (auto& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp" || ext == ".ppm" || ext == ".pgm";
}

std::string split_dir(const std::string& root, const std::string& split) {
  return (fs::path(root.empty() ? "." : root) / split).string();
}

// "<folder> <display name...>" per line; a line with one word names the folder itself.
std::map<std::string, std::string> read_names(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw RuntimeError(fmt::format("{}: cannot open the class-name file (data.class_names)", path));
  std::map<std::string, std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty()) continue;
    const size_t sp = line.find_first_of(" \t");
    if (sp == std::string::npos) {
      names[line] = line;
    } else {
      const size_t start = line.find_first_not_of(" \t", sp);
      names[line.substr(0, sp)] = line.substr(start);
    }
  }
  return names;
}

}  // namespace

std::vector<std::string> class_folders(const std::string& root, const std::string& split) {
  const std::string dir = split_dir(root, split);
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    throw RuntimeError(fmt::format("{}: not found (expected class folders {}/<class>/<image>, as torchvision's "
                                   "ImageFolder; see datasets/README.md)",
                                   dir, dir));
  std::vector<std::string> classes;
  for (const auto& e : fs::directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec))
    if (e.is_directory()) classes.push_back(e.path().filename().string());
  if (ec) throw RuntimeError(fmt::format("{}: cannot list: {}", dir, ec.message()));
  if (classes.empty()) throw RuntimeError(fmt::format("{}: no class folders (expected {}/<class>/<image>)", dir, dir));
  std::sort(classes.begin(), classes.end());
  return classes;
}

ImageFolderDataset::ImageFolderDataset(const std::string& root, const std::string& split,
                                       const std::vector<std::string>& classes, const std::string& names_file,
                                       int64_t limit, const DecodeLimits& limits, int channels)
    : limits_(limits), channels_(channels) {
  const std::string dir = split_dir(root, split);
  const std::vector<std::string> own = class_folders(root, split);
  classes_ = classes.empty() ? own : classes;
  std::map<std::string, int32_t> index;
  for (size_t c = 0; c < classes_.size(); ++c) index[classes_[c]] = int32_t(c);
  for (const auto& c : own)
    if (!index.count(c))
      throw RuntimeError(fmt::format("{}/{}: a class folder that train/ does not have (the classes and their labels "
                                     "come from train/)",
                                     dir, c));
  for (const auto& c : own) {
    const fs::path cdir = fs::path(dir) / c;
    // Sorted as torchvision's sorted(os.walk(...)) then sorted(fnames): by folder, then name.
    std::vector<std::pair<std::string, std::string>> found;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(cdir, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file() || !is_image_file(it->path())) continue;
      found.emplace_back(it->path().parent_path().string(), it->path().filename().string());
    }
    if (ec) throw RuntimeError(fmt::format("{}: cannot list: {}", cdir.string(), ec.message()));
    if (found.empty())
      throw RuntimeError(fmt::format("{}: no image files (.jpg, .jpeg, .png, .bmp, .ppm, .pgm) in this class folder",
                                     cdir.string()));
    std::sort(found.begin(), found.end());
    for (const auto& [d, f] : found) {
      files_.push_back((fs::path(d) / f).string());
      labels_.push_back(index[c]);
    }
  }
  if (limit > 0 && int64_t(files_.size()) > limit) {
    files_.resize(size_t(limit));
    labels_.resize(size_t(limit));
  }
  names_ = classes_;
  if (!names_file.empty()) {
    const fs::path p = fs::path(names_file).is_relative() ? fs::path(root) / names_file : fs::path(names_file);
    const auto names = read_names(p.string());
    for (auto& n : names_)
      if (auto it = names.find(n); it != names.end()) n = it->second;
  }
}

void ImageFolderDataset::read(int64_t i, Image& out) const {
  thread_local std::vector<uint8_t> buffer;
  load_image_file(files_[size_t(i)], out, buffer, limits_);
  if (channels_ == 1) to_grayscale(out);
}

}  // namespace cnn
