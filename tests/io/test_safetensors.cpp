#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/safetensors.h"
#include "skip.h"
#include "../temp_dir.h"

namespace fs = std::filesystem;
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

// A safetensors file from a hand-written header and data section.
std::string make_file(const std::string& header, const std::string& data) {
  return le64(header.size()) + header + data;
}

std::string floats_bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// The RuntimeError message of reading `path` ("" and a failed check if it did not throw one).
std::string read_error(const std::string& path) {
  try {
    read_safetensors(path);
  } catch (const RuntimeError& e) {
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find(path) != std::string::npos);
    return msg;
  }
  FAIL_CHECK("read_safetensors('" << path << "') did not throw RuntimeError");
  return "";
}

Tensor iota_tensor(Shape shape, float start) {
  Tensor t(std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = start + 0.25f * static_cast<float>(i);
  return t;
}

std::string fmt_declared(size_t declared, size_t has) {
  return "truncated: header declares " + std::to_string(declared) + " data bytes, file has " +
         std::to_string(has);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  if (a.numel() == 0) return true;
  return std::memcmp(a.data(), b.data(), static_cast<size_t>(a.numel()) * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("safetensors: round trip of several tensors and metadata", "[io][safetensors]") {
  TempDir dir;
  const std::string path = dir / "ckpt.safetensors";
  Tensor scalar(Shape{});
  scalar[0] = 3.5f;
  Tensor vec = iota_tensor({5}, -1.0f);
  vec[1] = std::numeric_limits<float>::quiet_NaN();
  vec[2] = -std::numeric_limits<float>::infinity();
  vec[3] = -0.0f;
  vec[4] = std::numeric_limits<float>::denorm_min();
  Tensor conv = iota_tensor({4, 3, 2, 5}, 0.5f);
  Tensor empty(Shape{0, 3});
  // Not in name order: the file must keep the given order.
  std::vector<NamedTensor> named = {{"layer1.0.conv1.weight", &conv},
                                    {"bn.num_batches", &scalar},
                                    {"a.bias", &vec},
                                    {"z.empty", &empty}};
  std::map<std::string, std::string> meta = {
      {"epoch", "7"}, {"config", "name: x\nlayers:\n  - \"relu\"\t# ü\n"}, {"empty", ""}};
  write_safetensors(path, named, meta);

  SafetensorsFile f = read_safetensors(path);
  REQUIRE(f.order == std::vector<std::string>{"layer1.0.conv1.weight", "bn.num_batches", "a.bias",
                                              "z.empty"});
  REQUIRE(f.tensors.size() == 4);
  CHECK(same_bits(f.tensors.at("layer1.0.conv1.weight"), conv));
  CHECK(same_bits(f.tensors.at("bn.num_batches"), scalar));
  CHECK(f.tensors.at("bn.num_batches").shape().empty());
  CHECK(same_bits(f.tensors.at("a.bias"), vec));
  CHECK(f.tensors.at("z.empty").shape() == Shape{0, 3});
  CHECK(f.metadata == meta);

  // Refused before anything is written.
  Tensor unallocated;
  CHECK_THROWS_WITH(write_safetensors(path, {{"a", &vec}, {"a", &vec}}),
                    "cannot write '" + path + "': duplicate tensor name 'a'");
  CHECK_THROWS_WITH(write_safetensors(path, {{"u", &unallocated}}),
                    "cannot write '" + path + "': tensor 'u' is not allocated");
  CHECK_THROWS_WITH(write_safetensors(path, {{"bad\xff", &vec}}),
                    Catch::StartsWith("cannot write '" + path + "': "));
  CHECK(read_safetensors(path).order.size() == 4);

  // Overwriting works and leaves no temp file behind.
  write_safetensors(path, {{"only", &vec}});
  SafetensorsFile g = read_safetensors(path);
  CHECK(g.order == std::vector<std::string>{"only"});
  CHECK(g.metadata.empty());
  CHECK(dir.list() == std::vector<std::string>{"ckpt.safetensors"});
}

TEST_CASE("safetensors: header is padded with spaces to a multiple of 8", "[io][safetensors]") {
  TempDir dir;
  Tensor t = iota_tensor({3}, 1.0f);
  for (int len = 1; len <= 9; ++len) {
    const std::string path = dir / "p.safetensors";
    write_safetensors(path, {{std::string(static_cast<size_t>(len), 'w'), &t}}, {{"k", "v"}});
    const std::string bytes = slurp(path);
    REQUIRE(bytes.size() >= 8);
    uint64_t hl = 0;
    for (int i = 0; i < 8; ++i) hl |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
    CHECK(hl % 8 == 0);
    REQUIRE(bytes.size() == 8 + hl + 12);
    const std::string header = bytes.substr(8, hl);
    CHECK(header.front() == '{');
    size_t close = header.find_last_of('}');
    REQUIRE(close != std::string::npos);
    CHECK(header.find_first_not_of(' ', close + 1) == std::string::npos);
    CHECK(header.find("\"__metadata__\":{\"k\":\"v\"}") != std::string::npos);
    CHECK(header.find("\"dtype\":\"F32\"") != std::string::npos);
    CHECK(bytes.substr(8 + hl) == floats_bytes({1.0f, 1.25f, 1.5f}));
  }
}

TEST_CASE("safetensors: truncated files are refused", "[io][safetensors]") {
  TempDir dir;
  const std::string good = dir / "good.safetensors";
  Tensor a = iota_tensor({2, 3}, 0.0f), b = iota_tensor({7}, 1.0f);
  write_safetensors(good, {{"a", &a}, {"b", &b}}, {{"epoch", "1"}});
  const std::string bytes = slurp(good);
  uint64_t hl = 0;
  for (int i = 0; i < 8; ++i) hl |= uint64_t(static_cast<unsigned char>(bytes[i])) << (8 * i);
  const size_t data_start = 8 + hl;
  const size_t cuts[] = {0, 1, 7, 8, 9, data_start / 2, data_start - 1, data_start,
                         data_start + 1, data_start + 24, bytes.size() - 1};
  for (size_t cut : cuts) {
    INFO("cut at " << cut << " of " << bytes.size());
    const std::string path = dir / "cut.safetensors";
    spit(path, bytes.substr(0, cut));
    std::string msg = read_error(path);
    if (cut < 8) {
      CHECK_THAT(msg, Catch::Contains("shorter than the 8-byte header length"));
    } else if (cut < data_start) {
      CHECK_THAT(msg, Catch::Contains("truncated: header length"));
    } else {
      CHECK_THAT(msg, Catch::Contains(fmt_declared(bytes.size() - data_start, cut - data_start)));
    }
  }
  CHECK_THAT(read_error(dir / "missing.safetensors"),
             Catch::Contains("cannot open: No such file or directory"));
  CHECK_THAT(read_error(dir.path.string()), Catch::Contains("not a regular file"));
}

TEST_CASE("safetensors: corrupt headers are refused with a precise message", "[io][safetensors]") {
  TempDir dir;
  const std::string path = dir / "bad.safetensors";
  const std::string data = floats_bytes({1, 2, 3, 4});  // 16 bytes
  auto refuse = [&](const std::string& header, const std::string& expected) {
    INFO("header: " << header);
    spit(path, make_file(header, data));
    CHECK_THAT(read_error(path), Catch::Contains(expected));
  };
  refuse("{\"a\": {\"dtype\": \"F32\", ", "header is not valid JSON");
  refuse("{\"a\"\n:\n", "header is not valid JSON");
  refuse("", "header is not a JSON object");
  refuse("[1, 2]", "header is not a JSON object");
  refuse("{\"a\": [1]}", "tensor 'a': entry is not an object");
  refuse("{\"a\": {\"shape\": [4], \"data_offsets\": [0, 16]}}", "tensor 'a': missing 'dtype'");
  refuse("{\"a\": {\"dtype\": \"F32\", \"data_offsets\": [0, 16]}}", "tensor 'a': missing 'shape'");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [4]}}", "tensor 'a': missing 'data_offsets'");
  refuse("{\"a\": {\"dtype\": \"C64\", \"shape\": [2], \"data_offsets\": [0, 16]}}",
         "tensor 'a': unsupported dtype C64 (supported: F32, F64, F16, BF16, I64, I32, I16, I8, U64, U32, U16, "
         "U8, BOOL)");
  refuse("{\"a\": {\"dtype\": \"F8_E4M3\", \"shape\": [16], \"data_offsets\": [0, 16]}}",
         "unsupported dtype F8_E4M3");
  refuse("{\"a\": {\"dtype\": \"I64\", \"shape\": [3], \"data_offsets\": [0, 16]}}",
         "tensor 'a': data_offsets [0, 16] span 16 bytes but shape [3] of I64 needs 24");
  refuse("{\"a\": {\"dtype\": \"F31\", \"shape\": [4], \"data_offsets\": [0, 16]}}",
         "tensor 'a': unknown dtype 'F31'");
  refuse("{\"a\": {\"dtype\": 32, \"shape\": [4], \"data_offsets\": [0, 16]}}",
         "'dtype' is not a string");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]}}",
         "'shape' must hold non-negative integers");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0]}}",
         "'data_offsets' must be [begin, end]");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [16, 0]}}",
         "begin > end");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}",
         "tensor 'a': data_offsets [0, 16] span 16 bytes but shape [3] of F32 needs 12");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296, 0], "
         "\"data_offsets\": [0, 0]}}",
         "needs more than 2^62");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [6], \"data_offsets\": [0, 24]}}",
         "truncated: header declares 24 data bytes, file has 16");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
         " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
         "tensors 'a' [0, 8] and 'b' [4, 12] overlap");
  refuse("{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
         " \"b\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 8]}}",
         "overlap");
  refuse("{\"__metadata__\": [\"x\"]}", "__metadata__ is not an object");
  refuse("{\"__metadata__\": {\"epoch\": 3}}", "__metadata__ value 'epoch' is not a string");

  // Header length fields that cannot be right.
  spit(path, le64(uint64_t(1) << 40) + "{}");
  CHECK_THAT(read_error(path), Catch::Contains("header length 1099511627776 is absurd"));
  spit(path, le64(1000) + "{}      ");
  CHECK_THAT(read_error(path),
             Catch::Contains("truncated: header length 1000 exceeds the 8 bytes after"));
  spit(path, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) + std::string(40, 'x'));
  CHECK_THAT(read_error(path), Catch::Contains("truncated: header length 559903 exceeds"));
}

TEST_CASE("safetensors: reads F64, F16 and BF16 as float, in data order", "[io][safetensors]") {
  TempDir dir;
  const std::string path = dir / "types.safetensors";
  std::string data;
  // c: F16 at offset 0: 1.0, -2.0, 65504 (max), 2^-24 (smallest subnormal), 2^-15 (subnormal),
  // inf, 0x3555 (0.333251953125)
  for (uint16_t h : {0x3c00, 0xc000, 0x7bff, 0x0001, 0x0200, 0x7c00, 0x3555})
    data += std::string(reinterpret_cast<const char*>(&h), 2);
  // b: BF16 at offset 14: 1.0, -3.0, 0.15625
  for (uint16_t h : {0x3f80, 0xc040, 0x3e20}) data += std::string(reinterpret_cast<const char*>(&h), 2);
  // a: F64 at offset 20: 0.1, -1e300 (-> -inf), 3.0
  for (double d : {0.1, -1e300, 3.0}) data += std::string(reinterpret_cast<const char*>(&d), 8);
  // d: F32 at offset 44, shape [1, 1]
  data += floats_bytes({42.0f});
  const std::string header =
      "{\"a\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[20,44]},"
      "\"b\":{\"dtype\":\"BF16\",\"shape\":[3],\"data_offsets\":[14,20]},"
      "\"c\":{\"dtype\":\"F16\",\"shape\":[7],\"data_offsets\":[0,14]},"
      "\"d\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[44,48]}}";
  spit(path, make_file(header, data));
  SafetensorsFile f = read_safetensors(path);
  CHECK(f.order == std::vector<std::string>{"c", "b", "a", "d"});
  const Tensor& c = f.tensors.at("c");
  REQUIRE(c.shape() == Shape{7});
  CHECK(c[0] == 1.0f);
  CHECK(c[1] == -2.0f);
  CHECK(c[2] == 65504.0f);
  CHECK(c[3] == std::ldexp(1.0f, -24));
  CHECK(c[4] == std::ldexp(1.0f, -15));
  CHECK(std::isinf(c[5]));
  CHECK(c[6] == 0.333251953125f);
  const Tensor& b = f.tensors.at("b");
  CHECK(b[0] == 1.0f);
  CHECK(b[1] == -3.0f);
  CHECK(b[2] == 0.15625f);
  const Tensor& a = f.tensors.at("a");
  CHECK(a[0] == 0.1f);
  CHECK(std::isinf(a[1]));
  CHECK(a[2] == 3.0f);
  CHECK(f.tensors.at("d").shape() == Shape{1, 1});
  CHECK(f.tensors.at("d")[0] == 42.0f);
}

TEST_CASE("safetensors: reads integer and bool tensors as float", "[io][safetensors]") {
  // torchvision state_dicts hold BatchNorm's num_batches_tracked as a 0-d I64.
  TempDir dir;
  const std::string path = dir / "ints.safetensors";
  std::string data, header = "{";
  uint64_t off = 0;
  auto add = [&](const std::string& name, const std::string& dtype, const std::string& shape, const std::string& bytes) {
    if (header.size() > 1) header += ",";
    header += "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
              std::to_string(off) + "," + std::to_string(off + bytes.size()) + "]}";
    data += bytes;
    off += bytes.size();
  };
  auto raw = [](const auto&... v) {
    std::string s;
    ((s += std::string(reinterpret_cast<const char*>(&v), sizeof(v))), ...);
    return s;
  };
  add("bn.num_batches_tracked", "I64", "[]", raw(int64_t(7)));
  add("i64", "I64", "[4]", raw(int64_t(-1), int64_t(0), int64_t(1) << 40, int64_t(16777217)));
  add("i32", "I32", "[2]", raw(int32_t(-2147483647 - 1), int32_t(123456)));
  add("i16", "I16", "[2]", raw(int16_t(-32768), int16_t(32767)));
  add("i8", "I8", "[2]", raw(int8_t(-128), int8_t(127)));
  add("u64", "U64", "[1]", raw(uint64_t(1) << 63));
  add("u32", "U32", "[1]", raw(uint32_t(4294967295u)));
  add("u16", "U16", "[1]", raw(uint16_t(65535)));
  add("u8", "U8", "[3]", raw(uint8_t(0), uint8_t(200), uint8_t(255)));
  add("mask", "BOOL", "[2, 2]", raw(uint8_t(0), uint8_t(1), uint8_t(1), uint8_t(0)));
  add("empty", "I64", "[0]", "");
  header += "}";
  spit(path, make_file(header, data));
  SafetensorsFile f = read_safetensors(path);
  const Tensor& nbt = f.tensors.at("bn.num_batches_tracked");
  CHECK(nbt.shape().empty());
  CHECK(nbt[0] == 7.0f);
  const Tensor& i64 = f.tensors.at("i64");
  CHECK(i64[0] == -1.0f);
  CHECK(i64[1] == 0.0f);
  CHECK(i64[2] == std::ldexp(1.0f, 40));
  CHECK(i64[3] == 16777216.0f);  // beyond 2^24: rounded to the nearest float
  CHECK(f.tensors.at("i32")[0] == -2147483648.0f);
  CHECK(f.tensors.at("i32")[1] == 123456.0f);
  CHECK(f.tensors.at("i16")[0] == -32768.0f);
  CHECK(f.tensors.at("i16")[1] == 32767.0f);
  CHECK(f.tensors.at("i8")[0] == -128.0f);
  CHECK(f.tensors.at("i8")[1] == 127.0f);
  CHECK(f.tensors.at("u64")[0] == std::ldexp(1.0f, 63));
  CHECK(f.tensors.at("u32")[0] == 4294967296.0f);
  CHECK(f.tensors.at("u16")[0] == 65535.0f);
  CHECK(f.tensors.at("u8")[1] == 200.0f);
  CHECK(f.tensors.at("u8")[2] == 255.0f);
  const Tensor& mask = f.tensors.at("mask");
  REQUIRE(mask.shape() == Shape{2, 2});
  CHECK(mask[0] == 0.0f);
  CHECK(mask[1] == 1.0f);
  CHECK(mask[2] == 1.0f);
  CHECK(mask[3] == 0.0f);
  CHECK(f.tensors.at("empty").shape() == Shape{0});
  CHECK(f.order.front() == "bn.num_batches_tracked");
}

TEST_CASE("safetensors: atomic writes", "[io][safetensors]") {
  TempDir dir;
  const std::string path = dir / "last.safetensors";
  Tensor old_t = iota_tensor({4}, 1.0f);
  write_safetensors(path, {{"w", &old_t}}, {{"epoch", "1"}});
  const std::string old_bytes = slurp(path);
  CHECK(dir.list() == std::vector<std::string>{"last.safetensors"});

  SECTION("a non-existent directory") {
    const std::string bad = dir / "no/such/dir/x.safetensors";
    try {
      write_safetensors(bad, {{"w", &old_t}});
      FAIL("no exception");
    } catch (const RuntimeError& e) {
      CHECK(std::string(e.what()) == "cannot write '" + bad + "': No such file or directory");
    }
    CHECK_THROWS_AS(write_file_atomic(bad, "x"), RuntimeError);
  }

  SECTION("the target is a directory") {
    fs::create_directory(dir / "sub");
    CHECK_THROWS_WITH(write_file_atomic(dir / "sub", "x"),
                      Catch::StartsWith("cannot write '" + (dir / "sub") + "': "));
    CHECK(fs::is_directory(dir / "sub"));
    CHECK(dir.list() == std::vector<std::string>{"last.safetensors", "sub"});
  }

  SECTION("a directory that is not writable") {
    if (::geteuid() == 0) {
      SUCCEED("running as root: permissions are not enforced; covered by the other sections");
    } else {
      fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
      Tensor new_t = iota_tensor({8}, 5.0f);
      CHECK_THROWS_WITH(write_safetensors(path, {{"w", &new_t}}),
                        Catch::Contains("Permission denied"));
      fs::permissions(dir.path, fs::perms::owner_all);
    }
  }

  SECTION("a write that fails midway (file size limit) keeps the old file") {
    // EFBIG instead of SIGXFSZ: the same path as a full disk.
    struct sigaction ign {}, old_sa {};
    ign.sa_handler = SIG_IGN;
    REQUIRE(::sigaction(SIGXFSZ, &ign, &old_sa) == 0);
    struct rlimit old_lim {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old_lim) == 0);
    struct rlimit lim = old_lim;
    lim.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &lim) == 0);
    Tensor big = iota_tensor({4096}, 0.0f);  // 16 KiB
    std::string msg;
    try {
      write_safetensors(path, {{"w", &big}});
    } catch (const RuntimeError& e) {
      msg = e.what();
    }
    std::string msg2;
    try {
      write_file_atomic(dir / "metrics.jsonl", std::string(10000, 'x'));
    } catch (const RuntimeError& e) {
      msg2 = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &old_lim);
    ::sigaction(SIGXFSZ, &old_sa, nullptr);
    CHECK(msg == "cannot write '" + path + "': " + std::strerror(EFBIG));
    CHECK_THAT(msg2, Catch::StartsWith("cannot write '" + (dir / "metrics.jsonl") + "'"));
  }

  // Whatever failed, the old checkpoint is intact and no temp file is left.
  CHECK(slurp(path) == old_bytes);
  SafetensorsFile f = read_safetensors(path);
  CHECK(same_bits(f.tensors.at("w"), old_t));
  CHECK(f.metadata.at("epoch") == "1");
  for (const auto& name : dir.list()) CHECK(name.find(".tmp.") == std::string::npos);
}

TEST_CASE("write_file_atomic writes and replaces text", "[io][safetensors]") {
  TempDir dir;
  const std::string path = dir / "report.txt";
  write_file_atomic(path, "first\n");
  CHECK(slurp(path) == "first\n");
  write_file_atomic(path, std::string("second\0binary", 13));
  CHECK(slurp(path) == std::string("second\0binary", 13));
  write_file_atomic(path, "");
  CHECK(slurp(path).empty());
  CHECK(dir.list() == std::vector<std::string>{"report.txt"});
  // A relative path in the current directory (the directory fsync uses ".").
  const fs::path cwd = fs::current_path();
  fs::current_path(dir.path);
  write_file_atomic("rel.txt", "r");
  fs::current_path(cwd);
  CHECK(slurp(dir / "rel.txt") == "r");
}

namespace {

bool have_python_numpy() {
  return ::access("/usr/bin/python3", X_OK) == 0 &&
         std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
}

// The format implemented from its specification with struct + json only (no safetensors
// package): what a PyTorch state_dict conversion produces (keys sorted in the header, data
// ordered by dtype then name, header padded with spaces).
const char* kPythonFormat = R"PY(
import json, struct, sys
import numpy as np

def save(path, tensors, metadata=None):
    names = sorted(tensors, key=lambda k: (-tensors[k][0].itemsize, k))
    header, blobs, off = {}, [], 0
    for k in names:
        arr, dtype = tensors[k]
        b = arr.tobytes()
        header[k] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

def load(path):
    with open(path, "rb") as f:
        raw = f.read()
    n, = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded"
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {})
    out = {}
    for k, v in header.items():
        assert v["dtype"] == "F32", v
        b, e = v["data_offsets"]
        out[k] = np.frombuffer(data[b:e], dtype="<f4").reshape(v["shape"])
    return out, meta
)PY";

int run_python(const TempDir& dir, const std::string& body) {
  const std::string script = dir / "st.py";
  spit(script, std::string(kPythonFormat) + body);
  const std::string cmd = "/usr/bin/python3 " + script + " " + dir.path.string();
  return std::system(cmd.c_str());
}

}  // namespace

TEST_CASE("safetensors: interoperates with a Python implementation of the format",
          "[io][safetensors][python]") {
  if (!have_python_numpy()) skip_test("/usr/bin/python3 with numpy is not available");
  TempDir dir;

  // Python writes (F32, F64, F16, BF16), we read.
  REQUIRE(run_python(dir, R"PY(
d = sys.argv[1]
w = np.arange(2 * 3 * 2 * 2, dtype=np.float32).reshape(2, 3, 2, 2) / 7
bf = (np.array([1.5, -2.25, 1e-3], dtype=np.float32).view(np.uint32) >> 16).astype("<u2")
save(d + "/torch.safetensors", {
    "conv1.weight": (w.astype("<f4"), "F32"),
    "bn1.running_var": (np.array([0.5, 2.0], dtype="<f8"), "F64"),
    "fc.bias": (np.array([0.1, -7.5, 1024.0], dtype="<f2"), "F16"),
    "head.scale": (bf, "BF16"),
    "step": (np.array(3.0, dtype="<f4"), "F32"),
}, {"format": "pt", "epoch": "12"})
)PY") == 0);
  SafetensorsFile f = read_safetensors(dir / "torch.safetensors");
  CHECK(f.metadata == std::map<std::string, std::string>{{"format", "pt"}, {"epoch", "12"}});
  CHECK(f.order == std::vector<std::string>{"bn1.running_var", "conv1.weight", "step", "fc.bias",
                                            "head.scale"});
  const Tensor& w = f.tensors.at("conv1.weight");
  REQUIRE(w.shape() == Shape{2, 3, 2, 2});
  for (int64_t i = 0; i < w.numel(); ++i) CHECK(w[i] == static_cast<float>(i) / 7.0f);
  CHECK(f.tensors.at("bn1.running_var")[1] == 2.0f);
  CHECK(f.tensors.at("fc.bias")[0] == Approx(0.1f).epsilon(1e-3));
  CHECK(f.tensors.at("fc.bias")[1] == -7.5f);
  CHECK(f.tensors.at("fc.bias")[2] == 1024.0f);
  CHECK(f.tensors.at("head.scale")[0] == 1.5f);
  CHECK(f.tensors.at("head.scale")[1] == -2.25f);
  CHECK(f.tensors.at("head.scale")[2] == Approx(1e-3f).epsilon(1e-2));
  CHECK(f.tensors.at("step").shape().empty());
  CHECK(f.tensors.at("step")[0] == 3.0f);

  // We write, Python reads.
  Tensor a = iota_tensor({3, 1, 2, 2}, -1.0f), b(Shape{}), c = iota_tensor({5}, 2.0f);
  b[0] = 0.125f;
  write_safetensors(dir / "ours.safetensors", {{"layer1.0.conv1.weight", &a}, {"s", &b}, {"v", &c}},
                    {{"config", "a: 1\nb: \"ü\"\n"}});
  CHECK(run_python(dir, R"PY(
d = sys.argv[1]
t, meta = load(d + "/ours.safetensors")
assert meta == {"config": "a: 1\nb: \"\u00fc\"\n"}, meta
a = t["layer1.0.conv1.weight"]
assert a.shape == (3, 1, 2, 2), a.shape
assert np.array_equal(a.ravel(), -1.0 + 0.25 * np.arange(12, dtype=np.float32))
assert t["s"].shape == () and float(t["s"]) == 0.125
assert np.array_equal(t["v"], 2.0 + 0.25 * np.arange(5, dtype=np.float32))
)PY") == 0);
}
