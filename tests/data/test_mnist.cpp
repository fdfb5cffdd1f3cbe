#include <sys/resource.h>
#include <zlib.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "data/mnist.h"
#include "skip.h"
#include "../temp_dir.h"

#ifndef CNN_SHARED_DATA
#define CNN_SHARED_DATA "../shared/data"
#endif

namespace fs = std::filesystem;
using namespace cnn;
using cnn::test::TempDir;
using cnn::test::slurp;
using cnn::test::spit;

namespace {

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

uint8_t pixel(uint32_t i, uint32_t r, uint32_t c) { return static_cast<uint8_t>(i * 31 + r * 7 + c); }

std::string idx_images(uint32_t n, uint32_t rows, uint32_t cols, uint32_t magic = 2051) {
  std::string s = be32(magic) + be32(n) + be32(rows) + be32(cols);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t r = 0; r < rows; ++r)
      for (uint32_t c = 0; c < cols; ++c) s += static_cast<char>(pixel(i, r, c));
  return s;
}

uint8_t label(uint32_t i) { return static_cast<uint8_t>((i * 3 + 1) % 10); }

std::string idx_labels(uint32_t n, uint32_t magic = 2049) {
  std::string s = be32(magic) + be32(n);
  for (uint32_t i = 0; i < n; ++i) s += static_cast<char>(label(i));
  return s;
}

void write_raw(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(f.good());
}

void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

// Writes a small split (`n` images of rows x cols), raw or gzipped.
void make_split(const TempDir& dir, const std::string& split, uint32_t n, bool gz,
                uint32_t rows = 28, uint32_t cols = 28) {
  const std::string img = dir / (split + "-images-idx3-ubyte" + (gz ? ".gz" : ""));
  const std::string lab = dir / (split + "-labels-idx1-ubyte" + (gz ? ".gz" : ""));
  if (gz) {
    write_gz(img, idx_images(n, rows, cols));
    write_gz(lab, idx_labels(n));
  } else {
    write_raw(img, idx_images(n, rows, cols));
    write_raw(lab, idx_labels(n));
  }
}

void check_content(const ImageDataset& ds, int64_t n, int64_t rows = 28, int64_t cols = 28) {
  REQUIRE(ds.count == n);
  CHECK(ds.channels == 1);
  CHECK(ds.height == rows);
  CHECK(ds.width == cols);
  CHECK(ds.sample_size() == rows * cols);
  REQUIRE(ds.pixels.size() == static_cast<size_t>(n * rows * cols));
  REQUIRE(ds.labels.size() == static_cast<size_t>(n));
  bool pixels_ok = true;
  for (int64_t i = 0; i < n; ++i) {
    CHECK(ds.labels[i] == label(static_cast<uint32_t>(i)));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        pixels_ok &= ds.pixels[(i * rows + r) * cols + c] ==
                     pixel(static_cast<uint32_t>(i), static_cast<uint32_t>(r),
                           static_cast<uint32_t>(c));
  }
  CHECK(pixels_ok);
  CHECK(ds.num_classes == 10);
  CHECK(ds.class_names.size() == 10);
}

// The RuntimeError message of load_mnist ("" and a failed check if it did not throw one).
std::string load_error(const std::string& root, const std::string& split = "train",
                       int64_t limit = 0) {
  try {
    load_mnist(root, split, false, limit);
  } catch (const RuntimeError& e) {
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    return msg;
  }
  FAIL_CHECK("load_mnist('" << root << "', '" << split << "') did not throw RuntimeError");
  return "";
}

}  // namespace

TEST_CASE("mnist: loads raw and gzipped IDX files", "[data][mnist]") {
  TempDir dir;
  make_split(dir, "train", 12, false);
  make_split(dir, "t10k", 5, true);
  ImageDataset train = load_mnist(dir.str(), "train");
  check_content(train, 12);
  CHECK(train.class_names == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8",
                                                      "9"});
  ImageDataset test = load_mnist(dir.str(), "t10k");
  check_content(test, 5);

  ImageDataset fashion = load_mnist(dir.str(), "t10k", true);
  CHECK(fashion.class_names ==
        std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                 "Shirt", "Sneaker", "Bag", "Ankle boot"});
}

TEST_CASE("mnist: limit keeps the first samples", "[data][mnist]") {
  TempDir dir;
  make_split(dir, "train", 10, true);
  check_content(load_mnist(dir.str(), "train", false, 3), 3);
  check_content(load_mnist(dir.str(), "train", false, 10), 10);
  check_content(load_mnist(dir.str(), "train", false, 1000), 10);
  check_content(load_mnist(dir.str(), "train", false, 0), 10);
}

TEST_CASE("mnist: other image sizes, file name variants, gzip detected by content",
          "[data][mnist]") {
  TempDir dir;
  SECTION("any rows x cols") {
    make_split(dir, "train", 4, false, 5, 3);
    check_content(load_mnist(dir.str(), "train"), 4, 5, 3);
  }
  SECTION("raw preferred over .gz") {
    make_split(dir, "train", 4, false);
    make_split(dir, "train", 6, true);
    check_content(load_mnist(dir.str(), "train"), 4);
  }
  SECTION("dot variant names") {
    write_gz(dir / "train-images.idx3-ubyte.gz", idx_images(3, 28, 28));
    write_raw(dir / "train-labels.idx1-ubyte", idx_labels(3));
    check_content(load_mnist(dir.str(), "train"), 3);
  }
  SECTION("gzip content without .gz, raw content with .gz") {
    write_gz(dir / "train-images-idx3-ubyte", idx_images(3, 28, 28));
    write_raw(dir / "train-labels-idx1-ubyte.gz", idx_labels(3));
    check_content(load_mnist(dir.str(), "train"), 3);
    CHECK(read_maybe_gz(dir / "train-images-idx3-ubyte") == idx_images(3, 28, 28));
    CHECK(read_maybe_gz(dir / "train-labels-idx1-ubyte.gz") == idx_labels(3));
  }
  SECTION("concatenated gzip members") {
    const std::string all = idx_images(3, 28, 28);
    write_gz(dir / "a.gz", all.substr(0, 1000));
    write_gz(dir / "b.gz", all.substr(1000));
    write_raw(dir / "train-images-idx3-ubyte.gz", slurp(dir / "a.gz") + slurp(dir / "b.gz"));
    write_raw(dir / "train-labels-idx1-ubyte", idx_labels(3));
    check_content(load_mnist(dir.str(), "train"), 3);
  }
}

TEST_CASE("mnist: missing files", "[data][mnist]") {
  TempDir dir;
  const std::string root = dir.str();
  CHECK(load_error(root) == root + "/train-images-idx3-ubyte[.gz]: not found (expected MNIST IDX "
                                   "files in " + root + "; see datasets/README.md)");
  CHECK(load_error(root + "/nonexistent") ==
        root + "/nonexistent/train-images-idx3-ubyte[.gz]: not found (expected MNIST IDX files in " +
            root + "/nonexistent; see datasets/README.md)");
  write_gz(dir / "train-images-idx3-ubyte.gz", idx_images(3, 28, 28));
  CHECK(load_error(root) == root + "/train-labels-idx1-ubyte[.gz]: not found (expected MNIST IDX "
                                   "files in " + root + "; see datasets/README.md)");
  try {
    load_mnist(root, "t10k", true);
    FAIL("no exception");
  } catch (const RuntimeError& e) {
    CHECK_THAT(e.what(), Catch::Contains("t10k-images-idx3-ubyte[.gz]: not found (expected "
                                         "Fashion-MNIST IDX files in"));
  }
  CHECK_THAT([&] {
    try {
      read_maybe_gz(dir / "nope");
    } catch (const RuntimeError& e) {
      return std::string(e.what());
    }
    return std::string();
  }(), Catch::Equals(dir / "nope" + ": not found"));
}

TEST_CASE("mnist: malformed files are refused with the file and the problem", "[data][mnist]") {
  TempDir dir;
  const std::string root = dir.str();
  const std::string img = dir / "train-images-idx3-ubyte";
  const std::string img_gz = dir / "train-images-idx3-ubyte.gz";
  const std::string lab = dir / "train-labels-idx1-ubyte";
  write_raw(lab, idx_labels(4));

  SECTION("bad magic: labels where images belong") {
    write_raw(img, idx_labels(4));
    CHECK(load_error(root) == img + ": bad magic number 2049 (0x00000801), expected 2051 for an IDX "
                                    "image file (this is an IDX label file)");
  }
  SECTION("bad magic in the labels") {
    write_raw(img, idx_images(4, 28, 28));
    write_raw(lab, idx_images(4, 28, 28));
    CHECK_THAT(load_error(root), Catch::StartsWith(lab + ": bad magic number 2051"));
  }
  SECTION("garbage") {
    write_raw(img, std::string(100, 'x'));
    CHECK_THAT(load_error(root), Catch::StartsWith(img + ": bad magic number"));
  }
  SECTION("truncated raw images") {
    write_raw(img, idx_images(4, 28, 28).substr(0, 1000));
    CHECK(load_error(root) == img + ": truncated: expected 3152 bytes, got 1000");
    write_raw(img, idx_images(4, 28, 28).substr(0, 10));
    CHECK(load_error(root) == img + ": truncated: expected at least 16 bytes of IDX header, got 10");
    write_raw(img, "");
    CHECK_THAT(load_error(root), Catch::StartsWith(img + ": truncated"));
  }
  SECTION("truncated content inside a complete gzip stream") {
    write_gz(img_gz, idx_images(4, 28, 28).substr(0, 1000));
    CHECK(load_error(root) ==
          img_gz + ": truncated: expected 3152 bytes after decompression, got 1000");
  }
  SECTION("truncated gzip stream") {
    write_gz(img_gz, idx_images(4, 28, 28));
    const std::string full = slurp(img_gz);
    for (size_t cut : {size_t(2), size_t(10), full.size() / 2, full.size() - 5, full.size() - 1}) {
      INFO("cut at " << cut << " of " << full.size());
      write_raw(img_gz, full.substr(0, cut));
      CHECK_THAT(load_error(root), Catch::StartsWith(img_gz + ": truncated gzip stream"));
    }
  }
  SECTION("corrupt gzip stream") {
    write_gz(img_gz, idx_images(4, 28, 28));
    std::string bytes = slurp(img_gz);
    bytes[bytes.size() - 6] ^= 0x55;  // inside the CRC32 trailer
    write_raw(img_gz, bytes);
    CHECK_THAT(load_error(root), Catch::StartsWith(img_gz + ": corrupt gzip data: "));
  }
  SECTION("trailing data") {
    write_raw(img, idx_images(4, 28, 28) + "extra");
    CHECK_THAT(load_error(root), Catch::StartsWith(img + ": expected 3152 bytes, got 3157"));
  }
  SECTION("zero-sized images or no images") {
    write_raw(img, idx_images(4, 0, 28));
    CHECK(load_error(root) == img + ": bad image size 0x28 in the header");
    write_raw(img, idx_images(0, 28, 28));
    CHECK(load_error(root) == img + ": header declares 0 images");
  }
  SECTION("absurd header") {
    write_raw(img, be32(2051) + be32(0xffffffffu) + be32(0xffffffffu) + be32(0xffffffffu));
    CHECK_THAT(load_error(root), Catch::StartsWith(img + ": header declares an absurd size"));
  }
  SECTION("label count differs from image count") {
    write_raw(img, idx_images(5, 28, 28));
    CHECK(load_error(root) == lab + ": 4 labels, but " + img + " has 5 images");
  }
  SECTION("truncated labels") {
    write_raw(img, idx_images(4, 28, 28));
    write_raw(lab, idx_labels(4).substr(0, 10));
    CHECK(load_error(root) == lab + ": truncated: expected 12 bytes, got 10");
  }
  SECTION("label out of range") {
    write_raw(img, idx_images(4, 28, 28));
    std::string l = idx_labels(4);
    l[8 + 2] = 12;
    write_raw(lab, l);
    CHECK(load_error(root) == lab + ": label 12 at index 2 is out of range (expected 0..9)");
    CHECK(load_error(root, "train", 1) == load_error(root));  // checked even beyond the limit
  }
}

// Peak resident memory of this process in bytes (each Catch2 case runs in its own process under ctest).
static uint64_t peak_rss_bytes() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return uint64_t(ru.ru_maxrss) * 1024;
}

TEST_CASE("mnist hostile: a gzip bomb inflates no further than its header needs", "[data][mnist][hostile]") {
  TempDir dir;
  const std::string root = dir.str();
  const std::string img_gz = dir / "train-images-idx3-ubyte.gz";
  write_raw(dir / "train-labels-idx1-ubyte", idx_labels(4));
  // 4 images of 28x28 (3152 bytes) in the header, then 1 GiB of zeros: 64 concatenated gzip
  // members of 16 MiB each (about 1 MiB on disk).
  write_gz(img_gz, idx_images(4, 28, 28) + std::string(16 << 20, '\0'));
  std::string member;
  {
    const std::string zeros_gz = dir / "zeros.gz";
    write_gz(zeros_gz, std::string(16 << 20, '\0'));
    member = slurp(zeros_gz);
  }
  std::string bomb = slurp(img_gz);
  for (int i = 0; i < 63; ++i) bomb += member;
  write_raw(img_gz, bomb);
  const uint64_t before = peak_rss_bytes();
  CHECK(load_error(root) == img_gz + ": decompresses to more than the 3152 bytes its IDX header declares "
                                     "(a decompression bomb or trailing data); not an MNIST IDX file?");
  CHECK(peak_rss_bytes() - before < (uint64_t(64) << 20));

  // A header that claims more than the data holds: inflating stops at the real end.
  write_gz(img_gz, idx_images(4, 28, 28).substr(0, 16) + std::string(100, '\1'));
  CHECK(load_error(root) == img_gz + ": truncated: expected 3152 bytes after decompression, got 116");
  // Counts whose product overflows 32 bits are computed in 64 and refused as absurd.
  write_gz(img_gz, be32(2051) + be32(0x10000) + be32(0x10000) + be32(0x10000));
  CHECK_THAT(load_error(root), Catch::StartsWith(img_gz + ": header declares an absurd size: 65536 images of 65536x65536"));
  // Bad magic inside the gzip stream is named before anything else is inflated.
  write_gz(img_gz, be32(0x12345678) + std::string(100, '\0'));
  CHECK_THAT(load_error(root), Catch::StartsWith(img_gz + ": bad magic number 305419896"));
}

TEST_CASE("mnist: the real MNIST files", "[data][mnist][real]") {
  const std::string root = std::string(CNN_SHARED_DATA) + "/mnist";
  if (!fs::exists(root + "/train-images-idx3-ubyte.gz") && !fs::exists(root + "/train-images-idx3-ubyte"))
    skip_test("real MNIST not found in " + root);
  ImageDataset train = load_mnist(root, "train");
  REQUIRE(train.count == 60000);
  CHECK(train.height == 28);
  CHECK(train.width == 28);
  CHECK(train.labels[0] == 5);
  CHECK(train.labels[1] == 0);
  const double mean =
      std::accumulate(train.pixels.begin(), train.pixels.end(), 0.0) / static_cast<double>(train.pixels.size());
  CHECK(mean == Approx(33.32).margin(0.05));
  std::vector<int> per_class(10, 0);
  for (int32_t l : train.labels) per_class[l]++;
  CHECK(per_class[1] > 6000);  // the most frequent class: 6742 ones
  ImageDataset test = load_mnist(root, "t10k");
  CHECK(test.count == 10000);
  CHECK(test.labels[0] == 7);
  CHECK(load_mnist(root, "t10k", false, 100).count == 100);
}

TEST_CASE("mnist: the real Fashion-MNIST files (Debian dataset-fashion-mnist)",
          "[data][mnist][real]") {
  const std::string root = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(root + "/train-images-idx3-ubyte.gz"))
    skip_test(root + " not found (apt-get install dataset-fashion-mnist)");
  ImageDataset train = load_mnist(root, "train", true);
  REQUIRE(train.count == 60000);
  CHECK(train.labels[0] == 9);
  CHECK(train.class_names[9] == "Ankle boot");
  CHECK(load_mnist(root, "t10k", true).count == 10000);
}
