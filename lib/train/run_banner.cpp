#include "train/run_banner.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/banner.h"
#include "io/atomic_file.h"

namespace cnn {

void write_run_banner(const std::string& run_dir, bool resumed) {
  const std::string path = (std::filesystem::path(run_dir) / kRunBannerFile).string();
  std::string before = resumed ? read_run_banner(run_dir) : "";
  if (!before.empty() && before.back() != '\n') before += '\n';
  write_file_atomic(path, before + (before.empty() ? "" : "resumed: ") + run_banner() + "\n");
}

std::string read_run_banner(const std::string& run_dir) {
  std::ifstream in(std::filesystem::path(run_dir) / kRunBannerFile, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cnn
