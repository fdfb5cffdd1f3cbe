// Hostile images (issue 15): a header claiming more pixels than data.max_image_pixels is refused
// before decoding (JPEG, PNG, BMP, PNM); a progressive JPEG with thousands of scans is refused at
// the scan limit; both quickly and as a BadSampleError naming the file.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <jpeglib.h>

#include "data/dataset.h"
#include "data/decode.h"

using namespace cnn;

namespace {

// A w x h RGB JPEG (baseline or progressive) made with libjpeg.
std::string make_jpeg(int w, int h, bool progressive) {
  jpeg_compress_struct c;
  jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* mem = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&c, &mem, &size);
  c.image_width = JDIMENSION(w);
  c.image_height = JDIMENSION(h);
  c.input_components = 3;
  c.in_color_space = JCS_RGB;
  jpeg_set_defaults(&c);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  std::vector<unsigned char> row(size_t(w) * 3);
  while (c.next_scanline < c.image_height) {
    for (size_t i = 0; i < row.size(); ++i) row[i] = static_cast<unsigned char>(i * 7 + c.next_scanline * 3);
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  std::string out(reinterpret_cast<char*>(mem), size);
  std::free(mem);
  return out;
}

void put_be16(std::string& s, size_t at, unsigned v) {
  s[at] = static_cast<char>(v >> 8);
  s[at + 1] = static_cast<char>(v);
}

void put_be32(std::string& s, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) s[at + size_t(i)] = static_cast<char>(v >> (24 - 8 * i));
}

// Rewrites the frame header (SOF0 or SOF2) to claim w x h pixels.
std::string with_jpeg_size(std::string jpg, unsigned w, unsigned h) {
  for (size_t i = 2; i + 9 < jpg.size(); ++i)
    if (uint8_t(jpg[i]) == 0xFF && (uint8_t(jpg[i + 1]) == 0xC0 || uint8_t(jpg[i + 1]) == 0xC2)) {
      put_be16(jpg, i + 5, h);
      put_be16(jpg, i + 7, w);
      return jpg;
    }
  FAIL("no SOF marker");
  return jpg;
}

std::string decode_error(const std::string& bytes, const DecodeLimits& limits = {}) {
  Image img;
  try {
    decode_image("x.img", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), img, limits);
  } catch (const BadSampleError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("decode hostile: images over max_image_pixels are refused from the header", "[data][decode][hostile]") {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string jpg = make_jpeg(16, 8, false);
  CHECK(decode_error(with_jpeg_size(jpg, 65500, 65500)) ==
        "x.img: image of 65500x65500 pixels is over data.max_image_pixels = 89478485 (a decompression bomb?); "
        "raise data.max_image_pixels to read it");
  CHECK(decode_error(with_jpeg_size(make_jpeg(16, 8, true), 65500, 65500)).find("65500x65500 pixels is over") !=
        std::string::npos);
  CHECK(decode_error(jpg) == "(no error)");
  CHECK(decode_error(jpg, DecodeLimits{127}) ==
        "x.img: image of 16x8 pixels is over data.max_image_pixels = 127 (a decompression bomb?); "
        "raise data.max_image_pixels to read it");
  CHECK(decode_error(jpg, DecodeLimits{128}) == "(no error)");

  // PNG: IHDR width and height (stb_image does not check the CRC; the size is read first anyway).
  std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  png += std::string(8, '\0') + std::string("\x08\x02\0\0\0", 5) + std::string(4, '\0');
  put_be32(png, 16, 10000);
  put_be32(png, 20, 10000);
  png += std::string(64, '\0');
  CHECK(decode_error(png).find("x.img: image of 10000x10000 pixels is over data.max_image_pixels") == 0);
  // PNM and BMP headers.
  CHECK(decode_error("P6\n100000 100000\n255\n" + std::string(64, 'x')).find("100000x100000 pixels is over") !=
        std::string::npos);
  std::string bmp = "BM" + std::string(52, '\0');
  bmp[10] = 54;  // pixel data offset
  bmp[14] = 40;  // BITMAPINFOHEADER
  put_be32(bmp, 18, 0);
  bmp[18] = char(0xa0), bmp[19] = char(0x86), bmp[20] = 0x01;  // width 100000 (little-endian)
  bmp[22] = char(0xa0), bmp[23] = char(0x86), bmp[24] = 0x01;  // height 100000
  bmp[26] = 1, bmp[28] = 24;                                    // planes, bits per pixel
  CHECK(decode_error(bmp + std::string(64, '\0')).find("100000x100000 pixels is over") != std::string::npos);
  // A PNG chunk claiming more bytes than the file has (stb_image would allocate them first).
  std::string lying_png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  lying_png += std::string("\0\0\0\x08\0\0\0\x08\x08\x02\0\0\0", 13) + std::string(4, '\0');
  lying_png += std::string("\x29\x00\x00\x00IDAT", 8) + std::string(32, 'z');
  CHECK(decode_error(lying_png) ==
        "x.img: truncated or corrupt PNG: a chunk at byte 33 declares 687865856 bytes, the file has 28 left");
  // The same chunk header at the very end of the file, without its CRC (a later fuzzing finding:
  // the loop stopped where 12 bytes no longer fitted, and stb allocated 805 MB).
  std::string cut_png = lying_png.substr(0, 33) + std::string("\x30\x00\x01\x13IDAT", 8);
  CHECK(decode_error(cut_png) ==
        "x.img: truncated or corrupt PNG: a chunk at byte 33 declares 805306643 bytes, the file has 0 left");
  // 16-bit PNM (stb_image's heap overflow, a fuzzing finding) and truncated PNM pixel data.
  CHECK(decode_error("P5\n8 8\n275\n" + std::string(128, 'x')) ==
        "x.img: 16-bit PNM (maxval above 255) is not supported");
  CHECK(decode_error("P6\n8 8\n255\n" + std::string(100, 'x')) ==
        "x.img: truncated PNM: 8x8x3 bytes of pixels, the file has 111 bytes");
  // PNM header numbers that overflow stb_image's int parser (a fuzzing finding).
  CHECK(decode_error("P6" + std::string(60, '6') + "2\x0bml") == "x.img: corrupt PNM: a header number has more than 9 digits");
  CHECK(decode_error("P6\n# c\n8 8\n2550000000\n" + std::string(200, 'x')) ==
        "x.img: corrupt PNM: a header number has more than 9 digits");
  CHECK(decode_error(std::string("P5#'\x08\xff\xff" "1\t\t\t\t\r\t\t\t\t\t6666693333333\xda", 30)) ==
        "x.img: corrupt PNM: a header number has more than 9 digits");
  // A top-down BMP (negative height in the header) of 800 x 655352 pixels (a fuzzing finding).
  CHECK(decode_error(std::string("BM\x82\0\xf8\x06\0\0$\0Z\0\0\0(\0\0\0 \x03\0\0\x08\0\xf6\xff\x01\0\x04\0\0\xff"
                                 "P\xd0\x03\0\0Z'\xa8\0", 41)) ==
        "x.img: image of 800x655352 pixels is over data.max_image_pixels = 89478485 (a decompression bomb?); "
        "raise data.max_image_pixels to read it");
  // BMP pixel rows that do not fit in the file (a fuzzing finding: stb_image read 2.3 million
  // pixels of zeros past the end of a 54-byte file, 13 s under the fuzzer).
  CHECK(decode_error(std::string("BM%\0\0\x01@\0\0\0006\0\0\0(\0\0\0\x08\0\0\0\x01Y\x04\0\x01\0\x18\0\0\xb2", 32) +
                     std::string(22, 'x')) ==
        "x.img: truncated BMP: 8x284929 pixels of 24 bits need 6838296 bytes from byte 54, the file has 54 bytes");
  std::string small_bmp = bmp.substr(0, 54);
  small_bmp[18] = 2, small_bmp[19] = 0, small_bmp[20] = 0;  // 2 x 2 pixels of 24 bits: rows of 8 bytes
  small_bmp[22] = 2, small_bmp[23] = 0, small_bmp[24] = 0;
  CHECK(decode_error(small_bmp + std::string(15, '\x7f')) ==
        "x.img: truncated BMP: 2x2 pixels of 24 bits need 16 bytes from byte 54, the file has 69 bytes");
  CHECK(decode_error(small_bmp + std::string(16, '\x7f')) == "(no error)");
  // A PNM header of height 0 (a fuzzing finding: stb_image returned an image of no pixels).
  CHECK(decode_error("P5\n8 0\n255\n" + std::string(16, 'x')) == "x.img: corrupt image: 8x0 pixels");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
}

TEST_CASE("decode hostile: a progressive JPEG with too many scans is refused", "[data][decode][hostile]") {
  const std::string jpg = make_jpeg(64, 64, true);
  // Repeat the last scan (SOS to EOI) until the file has well over 500 scans.
  const size_t last_sos = jpg.rfind(std::string("\xFF\xDA", 2));
  REQUIRE(last_sos != std::string::npos);
  const std::string scan = jpg.substr(last_sos, jpg.size() - 2 - last_sos);
  std::string bomb = jpg.substr(0, jpg.size() - 2);
  for (int i = 0; i < 2000; ++i) bomb += scan;
  bomb += "\xFF\xD9";
  const auto t0 = std::chrono::steady_clock::now();
  CHECK(decode_error(bomb) == "x.img: progressive JPEG with more than 500 scans (a decompression bomb?)");
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(decode_error(jpg) == "(no error)");  // jpeg_simple_progression's 10 scans
  DecodeLimits few;
  few.max_jpeg_scans = 5;
  CHECK(decode_error(jpg, few) == "x.img: progressive JPEG with more than 5 scans (a decompression bomb?)");
}
