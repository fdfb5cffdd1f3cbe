// CIFAR-10 binary layout: synthetic batch files with known content, every error naming the file,
// and the real data generated from ../shared/data/cifar10.
#include <catch2/catch.hpp>
#include <string>

#include "../error_text.h"
#include "core/error.h"
#include "data/cifar10.h"
#include "data_test_util.h"

using namespace cnn;
using namespace cnn::test;

namespace {

constexpr int64_t kRecord = 3073, kPerFile = 10000;

uint8_t label_of(int file, int64_t r) { return uint8_t((r * 3 + file) % 10); }
uint8_t pixel_of(int file, int64_t r, int64_t c, int64_t k) { return uint8_t(r * 13 + c * 101 + k * 7 + file); }

// Batch file `file` (1..5 train, 0 test) with a known pattern.
std::string batch_bytes(int file) {
  std::string s(size_t(kPerFile * kRecord), '\0');
  for (int64_t r = 0; r < kPerFile; ++r) {
    char* rec = s.data() + r * kRecord;
    rec[0] = char(label_of(file, r));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t k = 0; k < 1024; ++k) rec[1 + c * 1024 + k] = char(pixel_of(file, r, c, k));
  }
  return s;
}

}  // namespace

TEST_CASE("cifar10: records are read as label + R, G, B planes, across batch files", "[data][cifar10]") {
  TempDir dir;
  write_bytes(dir / "data_batch_1.bin", batch_bytes(1));
  write_bytes(dir / "data_batch_2.bin", batch_bytes(2));
  write_bytes(dir / "test_batch.bin", batch_bytes(0));
  // The first 10,005 training samples need only the first two files.
  const ImageDataset train = load_cifar10(dir.str(), "train", 10005);
  REQUIRE(train.count == 10005);
  CHECK(train.channels == 3);
  CHECK(train.height == 32);
  CHECK(train.width == 32);
  CHECK(train.num_classes == 10);
  CHECK(train.class_names.at(0) == "airplane");  // no batches.meta.txt: the official names
  CHECK(train.class_names.at(9) == "truck");
  for (int64_t i : {int64_t(0), int64_t(1), int64_t(9999), int64_t(10000), int64_t(10004)}) {
    const int file = i < kPerFile ? 1 : 2;
    const int64_t r = i % kPerFile;
    CHECK(train.labels[size_t(i)] == label_of(file, r));
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t k : {0, 31, 32, 1023})
        CHECK(train.pixels[size_t(i * 3072 + c * 1024 + k)] == pixel_of(file, r, c, k));
  }
  // As a Dataset: H x W x C bytes.
  const MemoryDataset ds(train);
  Image img;
  ds.read(10001, img);
  CHECK(img.height == 32);
  CHECK(img.channels == 3);
  CHECK(img.pixels[size_t((2 * 32 + 5) * 3 + 1)] == pixel_of(2, 1, 1, 2 * 32 + 5));

  write_bytes(dir / "batches.meta.txt", "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n");
  const ImageDataset test = load_cifar10(dir.str(), "test");
  CHECK(test.count == 10000);
  CHECK(test.class_names.at(2) == "c");
  CHECK(test.labels[7] == label_of(0, 7));
}

TEST_CASE("cifar10: missing, truncated, oversized and mislabelled files name the file", "[data][cifar10][errors]") {
  TempDir dir;
  const std::string f1 = dir / "data_batch_1.bin";
  CHECK(error_text([&] { load_cifar10(dir.str(), "train"); }) ==
        f1 + ": not found (expected the CIFAR-10 binary version in this folder: data_batch_1.bin ... "
             "data_batch_5.bin, test_batch.bin; see datasets/README.md)");
  std::string bytes = batch_bytes(1);
  write_bytes(f1, bytes.substr(0, bytes.size() - 1000));
  CHECK(error_text([&] { load_cifar10(dir.str(), "train"); }) ==
        f1 + ": truncated: expected 30730000 bytes (10000 records of 3073 bytes), got 30729000 (9999 whole records)");
  write_bytes(f1, bytes + "x");
  CHECK_THAT(error_text([&] { load_cifar10(dir.str(), "train"); }),
             Catch::StartsWith(f1 + ": expected 30730000 bytes (10000 records of 3073 bytes), got 30730001"));
  bytes[size_t(5 * kRecord)] = char(12);
  write_bytes(f1, bytes);
  CHECK(error_text([&] { load_cifar10(dir.str(), "train", 3); }) ==
        f1 + ": label 12 of record 5 (byte offset 15365) is out of range (expected 0..9)");
  write_bytes(dir / "test_batch.bin", batch_bytes(0));
  write_bytes(dir / "batches.meta.txt", "a\nb\n");
  CHECK(error_text([&] { load_cifar10(dir.str(), "test"); }) ==
        dir / "batches.meta.txt" + ": expected 10 class names, one per line, got 2");
  // The layout ends at data_batch_1 when only part of the training set is wanted... but the
  // second file is required for more.
  bytes[size_t(5 * kRecord)] = char(1);
  write_bytes(f1, bytes);
  CHECK_THAT(error_text([&] { load_cifar10(dir.str(), "train", 10001); }),
             Catch::StartsWith(dir / "data_batch_2.bin" + ": not found"));
}

TEST_CASE("cifar10: the real data set (generated from ../shared/data/cifar10)", "[data][cifar10][real]") {
  const std::string root = cifar10_root();
  const ImageDataset train = load_cifar10(root, "train");
  const ImageDataset test = load_cifar10(root, "test");
  REQUIRE(train.count == 50000);
  REQUIRE(test.count == 10000);
  std::vector<int64_t> per_class(10, 0);
  for (int32_t l : train.labels) per_class[size_t(l)]++;
  CHECK(per_class == std::vector<int64_t>(10, 5000));
  per_class.assign(10, 0);
  for (int32_t l : test.labels) per_class[size_t(l)]++;
  CHECK(per_class == std::vector<int64_t>(10, 1000));
  CHECK(train.class_names == std::vector<std::string>{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                      "horse", "ship", "truck"});
  // The per-channel train means the data's README reports: 0.4913, 0.4821, 0.4465.
  const double expected[3] = {0.4913, 0.4821, 0.4465};
  for (int64_t c = 0; c < 3; ++c) {
    double sum = 0;
    for (int64_t i = 0; i < train.count; ++i)
      for (int64_t k = 0; k < 1024; ++k) sum += train.pixels[size_t(i * 3072 + c * 1024 + k)];
    CHECK(sum / (255.0 * 1024 * 50000) == Approx(expected[c]).margin(5e-5));
  }
}
