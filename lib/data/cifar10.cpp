#include "data/cifar10.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace cnn {

namespace {

constexpr int64_t kRecords = 10000;                   // per batch file
constexpr int64_t kSide = 32, kPlane = kSide * kSide;
constexpr int64_t kRecordBytes = 1 + 3 * kPlane;      // 3073
constexpr int64_t kFileBytes = kRecords * kRecordBytes;

const std::vector<std::string> kDefaultNames = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                "dog",      "frog",       "horse", "ship", "truck"};

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw RuntimeError(fmt::format("{}: {}", path, problem));
}

// Appends the first `n` records of one batch file to `ds` (the whole file is checked).
void read_batch(const std::string& path, int64_t n, ImageDataset& ds) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      fail(path, "not found (expected the CIFAR-10 binary version in this folder: data_batch_1.bin ... "
                 "data_batch_5.bin, test_batch.bin; see datasets/README.md)");
    fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) fail(path, "not a regular file");
  const int64_t bytes = int64_t(st.st_size);
  if (bytes != kFileBytes) {
    if (bytes < kFileBytes)
      fail(path, fmt::format("truncated: expected {} bytes ({} records of {} bytes), got {}{}", kFileBytes, kRecords,
                             kRecordBytes, bytes,
                             bytes % kRecordBytes ? fmt::format(" ({} whole records)", bytes / kRecordBytes) : ""));
    fail(path, fmt::format("expected {} bytes ({} records of {} bytes), got {}: not a CIFAR-10 binary batch "
                           "(the CIFAR-100 binary version has 3074-byte records)",
                           kFileBytes, kRecords, kRecordBytes, bytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, fmt::format("cannot open: {}", std::strerror(errno)));
  std::vector<uint8_t> buf(static_cast<size_t>(kFileBytes));
  in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(kFileBytes));
  if (in.gcount() != std::streamsize(kFileBytes)) fail(path, fmt::format("read error after {} bytes", in.gcount()));
  for (int64_t r = 0; r < kRecords; ++r) {  // validate every label, even beyond `n`
    const uint8_t label = buf[size_t(r * kRecordBytes)];
    if (label >= 10)
      fail(path, fmt::format("label {} of record {} (byte offset {}) is out of range (expected 0..9)", label, r,
                             r * kRecordBytes));
  }
  const size_t base = ds.pixels.size();
  ds.pixels.resize(base + size_t(n * 3 * kPlane));
  for (int64_t r = 0; r < n; ++r) {
    const uint8_t* rec = buf.data() + r * kRecordBytes;
    ds.labels.push_back(rec[0]);
    std::memcpy(ds.pixels.data() + base + size_t(r * 3 * kPlane), rec + 1, size_t(3 * kPlane));
  }
  ds.count += n;
}

std::vector<std::string> read_names(const std::string& path) {
  std::ifstream in(path);
  if (!in) return kDefaultNames;
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) names.push_back(line);
  }
  if (names.size() != 10)
    fail(path, fmt::format("expected 10 class names, one per line, got {}", names.size()));
  return names;
}

}  // namespace

ImageDataset load_cifar10(const std::string& root, const std::string& split, int64_t limit) {
  const std::string dir = root.empty() ? std::string(".") : root;
  std::vector<std::string> files;
  if (split == "train")
    for (int k = 1; k <= 5; ++k) files.push_back(fmt::format("{}/data_batch_{}.bin", dir, k));
  else
    files.push_back(dir + "/test_batch.bin");
  ImageDataset ds;
  ds.channels = 3, ds.height = kSide, ds.width = kSide;
  ds.num_classes = 10;
  const int64_t total = int64_t(files.size()) * kRecords;
  const int64_t keep = limit > 0 ? std::min(limit, total) : total;
  ds.pixels.reserve(size_t(keep * 3 * kPlane));
  ds.labels.reserve(size_t(keep));
  for (const auto& f : files) {
    const int64_t n = std::min(kRecords, keep - ds.count);
    if (n <= 0) break;
    read_batch(f, n, ds);
  }
  ds.class_names = read_names(dir + "/batches.meta.txt");
  return ds;
}

}  // namespace cnn
