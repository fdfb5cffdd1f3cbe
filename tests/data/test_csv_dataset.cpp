// The csv dataset (data/csv_dataset.h): rows `path,label` relative to the CSV file, labels as class
// names or indices, an optional header, quoted fields, the training classes for val.csv, every
// problem named file:line; and data.channels: 1 (PIL's convert("L")) for csv and image_folder.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "../error_text.h"
#include "config/recipe.h"
#include "core/error.h"
#include "data/csv_dataset.h"
#include "data/image_folder.h"
#include "data/load.h"
#include "io/png.h"
#include "data_test_util.h"

using namespace cnn;
using namespace cnn::test;

namespace {

// A 2x1 RGB PNG: red then `second`.
void write_image(const fs::path& path, uint8_t r, uint8_t g, uint8_t b) {
  fs::create_directories(path.parent_path());
  Image img;
  img.reshape(1, 2, 3);
  const uint8_t px[6] = {255, 0, 0, r, g, b};
  std::copy(px, px + 6, img.data());
  write_png(path.string(), img);
}

void write_text(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("csv dataset: class names, header, quoting, paths relative to the csv file", "[data][csv]") {
  TempDir dir;
  const fs::path root = dir.path / "set";
  write_image(root / "img" / "a.png", 0, 255, 0);
  write_image(root / "img" / "b,1.png", 0, 0, 255);
  write_image(root / "img" / "c.png", 10, 20, 30);
  write_text(root / "train.csv", "\xEF\xBB\xBFpath,label\r\nimg/a.png,dog\r\n\"img/b,1.png\" , cat\r\n\nimg/c.png,dog\r\n");
  write_text(root / "val.csv", "img/c.png,cat\n");
  DataSpec spec;
  spec.dataset = DatasetKind::csv;
  spec.root = root.string();
  const auto train = load_dataset(spec, "train");
  REQUIRE(train->size() == 3);
  CHECK(train->class_names() == std::vector<std::string>{"cat", "dog"});  // sorted names, label = position
  CHECK(train->label(0) == 1);
  CHECK(train->label(1) == 0);
  CHECK(train->label(2) == 1);
  CHECK(train->sample_name(1) == (root / "img" / "b,1.png").string());
  Image img;
  train->read(0, img);
  CHECK(img.channels == 3);
  CHECK(img.data()[3 + 1] == 255);
  const auto val = load_dataset(spec, "val");
  REQUIRE(val->size() == 1);
  CHECK(val->num_classes() == 2);  // train.csv's classes
  CHECK(val->label(0) == 0);

  SECTION("class indices") {
    write_text(root / "train.csv", "img/a.png,2\nimg/b,1.png,0\n");
    CHECK_THROWS(load_dataset(spec, "train"));  // the unquoted comma makes 3 fields
    write_text(root / "train.csv", "img/a.png,2\n\"img/b,1.png\",0\n");
    const auto t = load_dataset(spec, "train");
    CHECK(t->num_classes() == 3);  // 0..max
    CHECK(t->label(0) == 2);
    CHECK(t->class_names() == std::vector<std::string>{"0", "1", "2"});
    write_text(root / "val.csv", "img/c.png,02\n");
    CHECK(load_dataset(spec, "val")->label(0) == 2);
    write_text(root / "val.csv", "img/c.png,3\n");
    const std::string val_csv = (root / "val.csv").string();
    CHECK(error_text([&] { load_dataset(spec, "val"); }) ==
          val_csv + ":1: label '3' is not a class of the training set (indices 0 to 2)");
  }
}

TEST_CASE("csv dataset: bad rows are named file:line", "[data][csv]") {
  TempDir dir;
  write_image(dir.path / "a.png", 1, 2, 3);
  const std::string csv = (dir.path / "train.csv").string();
  auto message_of = [&](const std::string& text) {
    write_text(csv, text);
    return error_text([&] { CsvDataset(csv, nullptr, 0, 3); });
  };
  CHECK(message_of("a.png,cat\na.png,cat,extra\n") == csv + ":2: expected 2 fields 'path,label', got 3");
  CHECK(message_of("a.png,cat\na.png,1\n") ==
        csv + ":2: label '1' is an index but line 1 has the name 'cat' (use class indices or class names, not both)");
  CHECK(message_of("a.png,cat\nmissing.png,cat\n") ==
        csv + ":2: image '" + (dir.path / "missing.png").string() +
            "' not found (paths are relative to the csv file's folder)");
  CHECK(message_of("\"a.png,cat\n") == csv + ":1: a quoted field is not closed (\")");
  CHECK(message_of("a.png,\n") == csv + ":1: the label is empty (a class index or a class name)");
  CHECK(message_of("path,label\n\n") == csv + ": no rows (expected 'path,label' lines)");
  const std::string none = (dir.path / "none.csv").string();
  CHECK(error_text([&] { CsvDataset(none, nullptr, 0, 3); }).rfind(none + ": cannot open", 0) == 0);
}

TEST_CASE("data.channels: 1 reads images as PIL's convert('L'), for csv and image_folder", "[data][csv]") {
  TempDir dir;
  // pure red, green and blue: PIL's L values 76, 150 and 29; grey stays grey
  write_image(dir.path / "train" / "x" / "g.png", 0, 255, 0);
  write_image(dir.path / "train" / "y" / "b.png", 0, 0, 255);
  write_image(dir.path / "w.png", 200, 200, 200);
  write_text(dir.path / "train.csv", "train/x/g.png,0\nw.png,1\n");
  DataSpec spec;
  spec.root = dir.str();
  spec.channels = 1;
  Image img;
  for (const DatasetKind dataset : {DatasetKind::csv, DatasetKind::image_folder}) {
    INFO(name_of(dataset));
    spec.dataset = dataset;
    const auto ds = load_dataset(spec, "train");
    CHECK(ds->channels() == 1);
    ds->read(0, img);
    REQUIRE(img.channels == 1);
    CHECK(int(img.data()[0]) == 76);
    CHECK(int(img.data()[1]) == 150);
    ds->read(1, img);
    CHECK(int(img.data()[1]) == (dataset == DatasetKind::csv ? 200 : 29));
  }
  // the recipe field: 1 or 3, only for datasets decoded from files
  const std::string base = "model: {input: [1, 2, 2], layers: [flatten]}\ndata: {dataset: csv, root: x, ";
  CHECK(load_recipe_string(base + "channels: 1}\n", "r.yaml", ".").data.channels == 1);
  CHECK_THROWS_WITH(load_recipe_string(base + "channels: 2}\n", "r.yaml", "."),
                    Catch::Contains("data.channels") && Catch::Contains("expected 1 (grayscale) or 3 (RGB), got 2"));
  CHECK_THROWS_WITH(load_recipe_string("model: {input: [1, 2, 2], layers: [flatten]}\ndata: {dataset: mnist, "
                                       "channels: 1}\n",
                                       "r.yaml", "."),
                    Catch::Contains("only used by datasets image_folder and csv"));
}
