// Image decoding: PNG (gray, RGBA) loads as RGB; empty, truncated, corrupt and non-image files
// throw BadSampleError naming the file. Exact pixels of real JPEGs against PIL are in
// test_transform_reference.cpp.
#include <catch2/catch.hpp>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>

#include "data/dataset.h"
#include "data/decode.h"
#include "data/image_folder.h"
#include "data_test_util.h"

using namespace cnn;
using namespace cnn::test;

namespace {

std::string decode_error(const std::string& path) {
  Image img;
  std::vector<uint8_t> buf;
  try {
    load_image_file(path, img, buf);
  } catch (const BadSampleError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("decode: PNG gray and RGBA become RGB", "[data][decode]") {
  TempDir dir;
  const uint8_t gray[6] = {0, 50, 100, 150, 200, 250};
  REQUIRE(stbi_write_png((dir / "g.png").c_str(), 3, 2, 1, gray, 3));
  const uint8_t rgba[8] = {10, 20, 30, 0, 40, 50, 60, 255};
  REQUIRE(stbi_write_png((dir / "a.png").c_str(), 2, 1, 4, rgba, 8));
  Image img;
  std::vector<uint8_t> buf;
  load_image_file(dir / "g.png", img, buf);
  CHECK(img.height == 2);
  CHECK(img.width == 3);
  CHECK(img.channels == 3);
  for (int i = 0; i < 6; ++i)
    for (int c = 0; c < 3; ++c) CHECK(img.pixels[size_t(i * 3 + c)] == gray[i]);
  load_image_file(dir / "a.png", img, buf);
  CHECK(std::vector<uint8_t>(img.pixels.begin(), img.pixels.begin() + 6) == std::vector<uint8_t>{10, 20, 30, 40, 50, 60});
}

TEST_CASE("decode: bad files throw BadSampleError naming the file", "[data][decode][errors]") {
  TempDir dir;
  write_bytes(dir / "empty.jpg", "");
  CHECK(decode_error(dir / "empty.jpg") == dir / "empty.jpg" + ": empty file");
  write_bytes(dir / "text.jpg", "hello, not an image\n");
  CHECK(decode_error(dir / "text.jpg") ==
        dir / "text.jpg" + ": not a JPEG, PNG, BMP or PNM image (unknown file signature)");
  CHECK_THAT(decode_error(dir / "missing.jpg"), Catch::StartsWith(dir / "missing.jpg" + ": cannot open: "));
  const uint8_t px[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  REQUIRE(stbi_write_png((dir / "ok.png").c_str(), 2, 2, 3, px, 6));
  const std::string png = read_bytes(dir / "ok.png");
  write_bytes(dir / "cut.png", png.substr(0, png.size() / 2));
  CHECK_THAT(decode_error(dir / "cut.png"), Catch::StartsWith(dir / "cut.png" + ": corrupt image: "));

  const std::string real = shared_data("imagenet-sample/val/n01440764/n01440764_192.JPEG");
  if (!fs::exists(real)) skip_test("imagenet-sample not found at " + shared_data("imagenet-sample"));
  const std::string jpeg = read_bytes(real);
  write_bytes(dir / "cut.jpg", jpeg.substr(0, jpeg.size() / 3));
  CHECK(decode_error(dir / "cut.jpg") == dir / "cut.jpg" + ": truncated JPEG: Premature end of JPEG file");
  std::string broken = jpeg;
  for (size_t i = 3; i < 40; ++i) broken[i] = char(0x01);  // after the signature: the header
  write_bytes(dir / "broken.jpg", broken);
  CHECK_THAT(decode_error(dir / "broken.jpg"), Catch::StartsWith(dir / "broken.jpg" + ": corrupt JPEG: "));
}

TEST_CASE("image_folder: sorted classes and files, names file, limit, errors", "[data][image_folder]") {
  TempDir dir;
  const uint8_t px[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (const char* f : {"train/b/2.png", "train/b/sub/1.png", "train/b/10.PNG", "train/a/z.png", "val/b/v.png"}) {
    fs::create_directories(fs::path(dir / f).parent_path());
    REQUIRE(stbi_write_png((dir / f).c_str(), 2, 2, 3, px, 6));
  }
  write_bytes(dir / "train/a/readme.txt", "not an image");
  write_bytes(dir / "names.txt", "a Class A\nb  Class B\n");
  const ImageFolderDataset train(dir.str(), "train", {}, "names.txt", 0);
  CHECK(train.classes() == std::vector<std::string>{"a", "b"});
  CHECK(train.class_names() == std::vector<std::string>{"Class A", "Class B"});
  REQUIRE(train.size() == 4);
  CHECK(train.files()[0] == dir / "train/a/z.png");
  CHECK(train.files()[1] == dir / "train/b/10.PNG");  // by folder, then name
  CHECK(train.files()[2] == dir / "train/b/2.png");
  CHECK(train.files()[3] == dir / "train/b/sub/1.png");
  CHECK(train.label(0) == 0);
  CHECK(train.label(3) == 1);
  CHECK(train.sample_name(2) == dir / "train/b/2.png");
  Image img;
  train.read(1, img);
  CHECK(img.width == 2);
  // val/ takes train/'s labels: its only class b is label 1.
  const ImageFolderDataset val(dir.str(), "val", train.classes(), "", 0);
  CHECK(val.label(0) == 1);
  CHECK(ImageFolderDataset(dir.str(), "train", {}, "", 2).size() == 2);
  fs::create_directories(dir / "train/c");
  CHECK_THROWS_WITH(ImageFolderDataset(dir.str(), "train", {}, "", 0),
                    dir / "train/c" + ": no image files (.jpg, .jpeg, .png, .bmp, .ppm, .pgm) in this class folder");
  CHECK_THROWS_WITH(ImageFolderDataset(dir.str(), "test", {}, "", 0),
                    Catch::StartsWith(dir / "test" + ": not found (expected class folders"));
}
