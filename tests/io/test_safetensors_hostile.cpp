// Hostile safetensors files (issue 15): what the reference implementation refuses, we refuse with
// a message naming the file and the field; nothing is allocated from a size the file cannot back.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "io/safetensors.h"
#include "../temp_dir.h"

using namespace cnn;
using cnn::test::TempDir;
using cnn::test::slurp;
using cnn::test::spit;

namespace {

std::string le64(uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

std::string make_file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string error_of(const std::string& path) {
  try {
    read_safetensors(path);
  } catch (const RuntimeError& e) {
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.rfind(path + ": ", 0) == 0);
    return msg;
  }
  FAIL_CHECK("read_safetensors('" << path << "') did not throw RuntimeError");
  return "";
}

const std::string kData16(16, '\0');

}  // namespace

TEST_CASE("safetensors hostile: duplicate keys, gaps and trailing bytes are refused", "[io][safetensors][hostile]") {
  TempDir dir;
  const std::string path = dir / "h.safetensors";
  auto refuse = [&](const std::string& header, const std::string& data, const std::string& expected) {
    INFO("header: " << header);
    spit(path, make_file(header, data));
    CHECK_THAT(error_of(path), Catch::Contains(expected));
  };
  refuse(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},)"
         R"( "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})",
         kData16, "duplicate key 'a' in the header");
  refuse(R"({"__metadata__": {"epoch": "1", "epoch": "2"}, "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})",
         kData16, "duplicate key 'epoch'");
  refuse(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}})", kData16,
         "data_offsets leave a gap: no tensor covers data bytes [0, 8) (before 'a')");
  refuse(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
         R"( "b": {"dtype": "F32", "shape": [1], "data_offsets": [12, 16]}})",
         kData16, "no tensor covers data bytes [4, 12) (before 'b')");
  refuse(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", kData16,
         "8 trailing bytes after the 8 data bytes the header declares");
  refuse(R"(  {"a": 1})", kData16, "header is not a JSON object (it does not start with '{')");
  refuse(R"({"a": {"dtype": "F32", "shape": [18446744073709551615, 2], "data_offsets": [0, 16]}})", kData16,
         "dimension too large");
  refuse(R"({"a": {"dtype": "F32", "shape": [4611686018427387904, 4, 4], "data_offsets": [0, 16]}})", kData16,
         "needs more than 2^62");
  refuse(R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 18446744073709551615]}})", kData16,
         "span 18446744073709551615 bytes but shape [4] of F32 needs 16");
}

TEST_CASE("safetensors hostile: a deeply nested header is refused without recursion", "[io][safetensors][hostile]") {
  TempDir dir;
  const std::string path = dir / "deep.safetensors";
  const int depth = 200000;
  std::string header = "{\"a\": " + std::string(depth, '[') + std::string(depth, ']') + "}";
  spit(path, make_file(header, ""));
  CHECK_THAT(error_of(path), Catch::Contains("tensor 'a': entry is not an object"));
}

TEST_CASE("safetensors hostile: PyTorch zip and pickle files are refused with the conversion command",
          "[io][safetensors][hostile]") {
  TempDir dir;
  const std::string zip = dir / "model.pth";
  spit(zip, std::string("PK\x03\x04\x00\x00\x08\x00\x00\x00", 10) + std::string(200, 'z'));
  std::string msg = error_of(zip);
  CHECK_THAT(msg, Catch::Contains("a PyTorch torch.save file (zip/pickle), not safetensors"));
  CHECK_THAT(msg, Catch::Contains("python3 -c \"import torch, safetensors.torch as st; st.save_file("));
  CHECK_THAT(msg, Catch::Contains("torch.load('" + zip + "', map_location='cpu', weights_only=True)"));
  const std::string legacy = dir / "model.pt";  // torch.save(..., _use_new_zipfile_serialization=False)
  spit(legacy, std::string("\x80\x02\x8a\x0a" "l\xfc\x9c" "F\xf9 j\xa8" "P\x19.", 16) + std::string(100, 'p'));
  CHECK_THAT(error_of(legacy), Catch::Contains("a PyTorch torch.save file"));
  // A real safetensors file whose 640-byte header length starts with the bytes 0x80 0x02 still reads.
  std::string header = R"({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})";
  header.append(640 - header.size(), ' ');
  const std::string ok = dir / "ok.safetensors";
  spit(ok, make_file(header, kData16));
  CHECK(read_safetensors(ok).tensors.at("a").numel() == 4);
}

TEST_CASE("safetensors hostile: every truncation of a valid file is refused", "[io][safetensors][hostile]") {
  TempDir dir;
  const std::string good = dir / "good.safetensors";
  Tensor a({2, 3}), b({5}), c({0});
  write_safetensors(good, {{"a", &a}, {"b", &b}, {"c", &c}, {"n", &b, true}}, {{"epoch", "1"}});
  const std::string bytes = slurp(good);
  const std::string cut = dir / "cut.safetensors";
  for (size_t n = 0; n < bytes.size(); ++n) {
    spit(cut, bytes.substr(0, n));
    bool refused = false;
    try {
      read_safetensors(cut);
    } catch (const RuntimeError& e) {
      refused = std::string(e.what()).rfind(cut + ": ", 0) == 0;
    }
    if (!refused) FAIL_CHECK("a file cut to " << n << " of " << bytes.size() << " bytes was not refused");
  }
  // And every byte appended.
  spit(cut, bytes + "x");
  CHECK_THAT(error_of(cut), Catch::Contains("1 trailing bytes"));
}
