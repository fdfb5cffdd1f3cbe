#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.h"
#include "io/npy.h"
#include "skip.h"
#include "../temp_dir.h"

namespace fs = std::filesystem;
using namespace cnn;
using cnn::test::TempDir;
using cnn::test::slurp;
using cnn::test::spit;

namespace {

// A version 1.0 .npy file with `dict` as its header (padded as numpy pads) and `data`.
std::string npy_file(const std::string& dict, const std::string& data, int major = 1) {
  const size_t prefix = major == 1 ? 10 : 12;
  std::string h = dict;
  h.append((64 - (prefix + h.size() + 1) % 64) % 64, ' ');
  h += '\n';
  std::string out("\x93NUMPY", 6);
  out += static_cast<char>(major);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i) out += static_cast<char>(h.size() >> (8 * i));
  return out + h + data;
}

std::string floats(std::initializer_list<float> v) {
  return std::string(reinterpret_cast<const char*>(std::data(v)), v.size() * sizeof(float));
}

std::string read_error(const std::string& path) {
  try {
    read_npy(path);
  } catch (const RuntimeError& e) {
    std::string msg = e.what();
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.rfind(path, 0) == 0);
    return msg;
  }
  FAIL_CHECK("read_npy('" << path << "') did not throw RuntimeError");
  return "";
}

}  // namespace

TEST_CASE("npy: round trip of float32 arrays of any rank", "[io][npy]") {
  TempDir dir;
  for (Shape shape : {Shape{2, 3, 4, 5}, Shape{7}, Shape{}, Shape{0, 3}, Shape{1, 1000}}) {
    INFO("shape " << shape_str(shape));
    Tensor t(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t[i] = 0.5f * float(i) - 3.25f;
    const std::string path = dir / "a.npy";
    write_npy(path, t);
    const std::string bytes = slurp(path);
    REQUIRE(bytes.size() >= 10);
    CHECK(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
    const size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    CHECK((10 + header_len) % 64 == 0);  // data aligned as numpy aligns it
    CHECK(bytes[10 + header_len - 1] == '\n');
    CHECK(bytes.size() == 10 + header_len + size_t(t.numel()) * 4);
    const Tensor r = read_npy(path);
    CHECK(r.shape() == shape);
    REQUIRE(r.numel() == t.numel());
    if (t.numel()) CHECK(std::memcmp(r.data(), t.data(), size_t(t.numel()) * 4) == 0);
  }
  // The header spells tuples as Python does.
  Tensor one(Shape{5});
  write_npy(dir / "one.npy", one);
  CHECK(slurp(dir / "one.npy").find("'shape': (5,)") != std::string::npos);
  Tensor scalar(Shape{});
  write_npy(dir / "s.npy", scalar);
  CHECK(slurp(dir / "s.npy").find("'shape': ()") != std::string::npos);
}

TEST_CASE("npy: reads headers as numpy writes them, versions 1 to 3, big-endian float32", "[io][npy]") {
  TempDir dir;
  const std::string path = dir / "a.npy";
  spit(path, npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", floats({1, 2, 3, 4})));
  Tensor t = read_npy(path);
  REQUIRE(t.shape() == Shape{2, 2});
  CHECK(t[3] == 4.0f);
  // Key order, quoting and spacing vary; Python 2 wrote longs ("3L").
  spit(path, npy_file("{\"shape\":(3L,),\"fortran_order\":False,\"descr\":\"<f4\"}", floats({1, 2, 3})));
  CHECK(read_npy(path).shape() == Shape{3});
  spit(path, npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", floats({5, 6, 7}), 2));
  CHECK(read_npy(path)[2] == 7.0f);
  spit(path, npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3), }", floats({5, 6, 7}), 3));
  CHECK(read_npy(path)[1] == 6.0f);
  // '>f4': byte-swapped on reading.
  float v = 1.5f;
  uint32_t w;
  std::memcpy(&w, &v, 4);
  w = __builtin_bswap32(w);
  spit(path, npy_file("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
                      std::string(reinterpret_cast<const char*>(&w), 4)));
  CHECK(read_npy(path)[0] == 1.5f);
}

TEST_CASE("npy: refuses other dtypes, Fortran order, truncation with a precise message", "[io][npy]") {
  TempDir dir;
  const std::string path = dir / "bad.npy";
  auto refuse = [&](const std::string& bytes, const std::string& expected) {
    spit(path, bytes);
    CHECK_THAT(read_error(path), Catch::Contains(expected));
  };
  const std::string d4 = floats({1, 2, 3, 4});
  refuse(npy_file("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", d4),
         "dtype float64 '<f8' is not supported: cnn reads float32 arrays only (save a.astype(np.float32))");
  refuse(npy_file("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", d4), "dtype int64 '<i8'");
  refuse(npy_file("{'descr': '|u1', 'fortran_order': False, 'shape': (16,), }", d4), "dtype uint8 '|u1'");
  refuse(npy_file("{'descr': '|b1', 'fortran_order': False, 'shape': (16,), }", d4), "dtype bool '|b1'");
  refuse(npy_file("{'descr': '<f2', 'fortran_order': False, 'shape': (8,), }", d4), "dtype float16 '<f2'");
  refuse(npy_file("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", d4), "dtype object '|O'");
  refuse(npy_file("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2,), }", d4),
         "structured dtype [('a', '<f4'), ('b', '<f4')] is not supported");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", d4),
         "Fortran-order arrays are not supported: save a C-order array (np.ascontiguousarray(a))");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", d4),
         "truncated: shape (2x3) of float32 needs 24 data bytes, file has 16");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", d4),
         "4 trailing bytes after the data of shape (3)");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': False, }", d4), "header has no 'shape'");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", d4),
         "'shape' (2, -2) is not a tuple of non-negative integers");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", d4), "is not a tuple");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), ", d4), "header is not a valid .npy dict");
  refuse(npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", d4),
         "is too large");
  refuse(std::string("PK\x03\x04", 4) + std::string(60, 'x'), "not a .npy file (it does not start with \\x93NUMPY)");
  refuse(std::string("\x93NUMPY\x01", 7), "truncated");
  refuse(std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' '),
         "unsupported .npy format version 4.0");
  std::string whole = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", d4);
  refuse(whole.substr(0, 40), "truncated: header length 118 exceeds the 30 bytes after the preamble");
  CHECK_THAT(read_error(dir / "missing.npy"), Catch::Contains("cannot open: No such file or directory"));
  CHECK_THAT(read_error(dir.path.string()), Catch::Contains("not a regular file"));
}

TEST_CASE("npy: interoperates with numpy", "[io][npy][python]") {
  if (::access("/usr/bin/python3", X_OK) != 0 ||
      std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0)
    skip_test("/usr/bin/python3 with numpy is not available");
  TempDir dir;
  const std::string script = dir / "np.py";
  spit(script, R"PY(
import sys
import numpy as np
d = sys.argv[1]
if sys.argv[2] == "write":
    np.save(d + "/a.npy", (np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5) - 7) / 3)
    np.save(d + "/s.npy", np.float32(2.5))
    np.save(d + "/f8.npy", np.zeros(3))
    np.save(d + "/fortran.npy", np.asfortranarray(np.ones((2, 3), dtype=np.float32)))
    np.save(d + "/t.npy", np.arange(6, dtype=np.float32).reshape(2, 3).T)  # a transposed view: saved in Fortran order
else:
    a = np.load(d + "/ours.npy")
    assert a.dtype == np.float32 and a.shape == (3, 1, 2), (a.dtype, a.shape)
    assert np.array_equal(a.ravel(), np.arange(6, dtype=np.float32) * 0.25), a
    s = np.load(d + "/scalar.npy")
    assert s.shape == () and float(s) == -1.5
)PY");
  const std::string base = "/usr/bin/python3 " + script + " " + dir.path.string();
  REQUIRE(std::system((base + " write").c_str()) == 0);
  const Tensor a = read_npy(dir / "a.npy");
  REQUIRE(a.shape() == Shape{2, 3, 4, 5});
  for (int64_t i = 0; i < a.numel(); ++i) CHECK(a[i] == (float(i) - 7.0f) / 3.0f);
  const Tensor s = read_npy(dir / "s.npy");
  CHECK(s.shape().empty());
  CHECK(s[0] == 2.5f);
  CHECK_THAT(read_error(dir / "f8.npy"), Catch::Contains("dtype float64 '<f8' is not supported"));
  CHECK_THAT(read_error(dir / "fortran.npy"), Catch::Contains("Fortran-order arrays are not supported"));
  CHECK_THAT(read_error(dir / "t.npy"), Catch::Contains("Fortran-order arrays are not supported"));

  Tensor ours(Shape{3, 1, 2});
  for (int64_t i = 0; i < ours.numel(); ++i) ours[i] = 0.25f * float(i);
  write_npy(dir / "ours.npy", ours);
  Tensor scalar(Shape{});
  scalar[0] = -1.5f;
  write_npy(dir / "scalar.npy", scalar);
  CHECK(std::system((base + " read").c_str()) == 0);
}

TEST_CASE("npy hostile: header lengths over numpy's limit and every truncation are refused", "[io][npy][hostile]") {
  TempDir dir;
  const std::string path = dir / "h.npy";
  // A version 2.0 header claiming 4 GiB: refused from the length field, before any allocation.
  spit(path, std::string("\x93NUMPY\x02\x00\xff\xff\xff\xff", 12) + std::string(64, ' '));
  CHECK_THAT(read_error(path), Catch::Contains("header length 4294967295 is over the limit of 10000 bytes"));
  std::string long_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }" + std::string(10000, ' ');
  spit(path, npy_file(long_dict, floats({1, 2, 3, 4}), 2));
  CHECK_THAT(read_error(path), Catch::Contains("is over the limit of 10000 bytes"));

  Tensor t({3, 2});
  for (int64_t i = 0; i < t.numel(); ++i) t[i] = float(i);
  write_npy(dir / "good.npy", t);
  const std::string bytes = slurp(dir / "good.npy");
  for (size_t n = 0; n < bytes.size(); ++n) {
    spit(path, bytes.substr(0, n));
    bool refused = false;
    try {
      read_npy(path);
    } catch (const RuntimeError& e) {
      refused = std::string(e.what()).rfind(path + ": ", 0) == 0;
    }
    if (!refused) FAIL_CHECK("a file cut to " << n << " of " << bytes.size() << " bytes was not refused");
  }
}
