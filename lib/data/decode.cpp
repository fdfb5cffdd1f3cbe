#include "data/decode.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csetjmp>
#include <cstdio>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <limits>

// jpeglib.h needs FILE and size_t declared first.
#include <jpeglib.h>
#include <jerror.h>

#include <fmt/format.h>

#include "data/dataset.h"

// stb_image's own code trips GCC's -Wmaybe-uninitialized when inlined here; it is not ours to fix.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#define STBI_NO_STDIO
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

namespace cnn {

namespace {

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw BadSampleError(fmt::format("{}: {}", path, what));
}

struct JpegError {
  jpeg_error_mgr mgr;
  jpeg_progress_mgr progress;  // counts scans (jpeg_scan_limit)
  int max_scans = 0;
  int64_t width = 0, height = 0;  // from the header, for the pixel-limit message
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {0};
  bool truncated = false;
};

void jpeg_fail(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings: a premature end of data is an error (PIL: "image file is truncated"); others (extra
// bytes before a marker, ...) are ignored, as PIL ignores them.
void jpeg_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    err->truncated = true;
    (*cinfo->err->format_message)(cinfo, err->message);
    std::longjmp(err->jump, 1);
  }
}

// Called by libjpeg between scans: a progressive file with more scans than the limit is refused
// (libjpeg-turbo's own fuzz targets do the same).
void jpeg_scan_limit(j_common_ptr cinfo) {
  if (!cinfo->is_decompressor) return;
  auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  if (d->input_scan_number > err->max_scans) {
    std::snprintf(err->message, sizeof err->message,
                  "progressive JPEG with more than %d scans (a decompression bomb?)", err->max_scans);
    std::longjmp(err->jump, 2);
  }
}

// stb_image grows its buffer to each PNG chunk's declared length before reading it, so a chunk
// claiming 700 MB in a small file allocates 700 MB (found by fuzzing). Every chunk must fit the
// file: "" if so, else the problem. A chunk whose length and type are there but whose CRC is not
// is checked too: stb allocates after reading those 8 bytes (a second fuzzing finding).
std::string png_chunk_problem(const uint8_t* data, size_t size) {
  size_t at = 8;  // after the signature
  while (at + 8 <= size) {
    const uint64_t len = uint64_t(data[at]) << 24 | uint64_t(data[at + 1]) << 16 | uint64_t(data[at + 2]) << 8 | data[at + 3];
    const size_t left = size >= at + 12 ? size - at - 12 : 0;  // for the data, after length, type and CRC
    if (at + 12 > size || len > left)
      return fmt::format("truncated or corrupt PNG: a chunk at byte {} declares {} bytes, the file has {} left", at, len,
                         left);
    if (std::memcmp(data + at + 4, "IEND", 4) == 0) return "";
    at += 12 + size_t(len);
  }
  return "";
}

// stb_image parses PNM header numbers into an int without a bound (signed overflow, found by
// fuzzing): the width, height and maxval must each have at most 9 digits.
bool pnm_numbers_fit(const uint8_t* data, size_t size) {
  size_t at = 2;  // after "P<n>"
  for (int field = 0; field < 3 && at < size; ++field) {
    while (at < size && (std::isspace(data[at]) || data[at] == '#')) {
      if (data[at] == '#')
        while (at < size && data[at] != '\n' && data[at] != '\r') ++at;  // as stb_image ends a comment
      else
        ++at;
    }
    size_t digits = 0;
    while (at < size && std::isdigit(data[at])) ++at, ++digits;
    if (digits > 9) return false;
    if (digits == 0) return true;  // not a number: stb reports the header as bad
  }
  return true;
}

uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
unsigned le16(const uint8_t* p) { return unsigned(p[0]) | unsigned(p[1]) << 8; }

// An uncompressed BMP whose pixel rows do not fit in the file (PIL: "image file is truncated").
// stb_image reads past the end as zeros, so a 54-byte file claiming 8 x 284929 pixels took 13 s to
// decode under the fuzzer (a fuzzing finding: work and memory proportional to a lie). "" when the
// rows fit, or the header is not one whose rows can be counted (stb_image then decides).
std::string bmp_truncation(const uint8_t* data, size_t size) {
  if (size < 30 || data[0] != 'B' || data[1] != 'M') return "";
  const uint64_t offset = le32(data + 10), header = le32(data + 14);
  int64_t w = 0, h = 0;
  unsigned bpp = 0, compression = 0;
  if (header == 12) {  // BITMAPCOREHEADER: 16-bit sizes, no compression
    w = le16(data + 18), h = le16(data + 20), bpp = le16(data + 24);
  } else if (header >= 40 && size >= 34) {
    w = int32_t(le32(data + 18)), h = int32_t(le32(data + 22)), bpp = le16(data + 28);
    compression = le32(data + 30);
  } else {
    return "";
  }
  constexpr unsigned kRle8 = 1, kRle4 = 2;  // stb_image refuses RLE and reads every other kind as rows
  if (compression == kRle8 || compression == kRle4) return "";
  const uint64_t row = (uint64_t(bpp) * uint64_t(std::llabs(w)) + 31) / 32 * 4;
  const uint64_t need = row * uint64_t(std::llabs(h));
  if (offset + need <= size) return "";
  return fmt::format("truncated BMP: {}x{} pixels of {} bits need {} bytes from byte {}, the file has {} bytes",
                     std::llabs(w), std::llabs(h), bpp, need, offset, size);
}

std::string too_many_pixels(int64_t w, int64_t h, int64_t max_pixels) {
  return fmt::format("image of {}x{} pixels is over data.max_image_pixels = {} (a decompression bomb?); "
                     "raise data.max_image_pixels to read it",
                     w, h, max_pixels);
}

// PIL's cmyk2rgb on the inverted ("CMYK;I") values libjpeg returns for Adobe files:
// C = 255 - c, nk = 255 - K = k; R = nk - C * nk / 255 (rounded as MULDIV255).
inline uint8_t cmyk_channel(unsigned c, unsigned k) {
  const unsigned C = 255 - c, nk = k;
  const unsigned tmp = C * nk + 128;
  const unsigned muldiv = ((tmp >> 8) + tmp) >> 8;
  const int v = int(nk) - int(muldiv);
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

// Returns an empty string on success, else the problem. Only plain C types live in this frame,
// so longjmp out of libjpeg skips no destructors.
std::string decode_jpeg(const uint8_t* data, size_t size, Image& out, const DecodeLimits& limits) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpeg_fail;
  err.mgr.emit_message = jpeg_message;
  err.progress.progress_monitor = jpeg_scan_limit;
  err.max_scans = limits.max_jpeg_scans;
  uint8_t* volatile row_buffer = nullptr;  // set after setjmp: volatile keeps it valid after a longjmp
  if (int why = setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    std::free(row_buffer);
    if (why == 3) return too_many_pixels(err.width, err.height, limits.max_pixels);
    if (why == 2) return err.message;  // the scan limit, already worded
    return err.truncated ? std::string("truncated JPEG: ") + err.message : std::string("corrupt JPEG: ") + err.message;
  }
  jpeg_create_decompress(&cinfo);
  cinfo.progress = &err.progress;
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  err.width = cinfo.image_width;
  err.height = cinfo.image_height;
  if (err.width * err.height > limits.max_pixels) std::longjmp(err.jump, 3);
  const bool cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // libjpeg-turbo expands grayscale to RGB
  jpeg_start_decompress(&cinfo);
  const int64_t w = cinfo.output_width, h = cinfo.output_height;
  out.reshape(h, w, 3);
  if (cmyk) row_buffer = static_cast<uint8_t*>(std::malloc(size_t(w) * 4));
  while (cinfo.output_scanline < cinfo.output_height) {
    const int64_t y = cinfo.output_scanline;
    uint8_t* dst = out.data() + y * w * 3;
    JSAMPROW row = cmyk ? row_buffer : dst;
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk)
      for (int64_t x = 0; x < w; ++x) {
        const uint8_t* p = row_buffer + x * 4;
        for (int c = 0; c < 3; ++c) dst[x * 3 + c] = cmyk_channel(p[c], p[3]);
      }
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  std::free(row_buffer);
  return "";
}

}  // namespace

void decode_image(const std::string& path, const uint8_t* data, size_t size, Image& out,
                  const DecodeLimits& limits) {
  if (size == 0) bad(path, "empty file");
  if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    const std::string problem = decode_jpeg(data, size, out, limits);
    if (!problem.empty()) bad(path, problem);
    return;
  }
  if (size > size_t(std::numeric_limits<int>::max())) bad(path, "file of more than 2 GiB: not decoded");
  if (data[0] == 'P' && !pnm_numbers_fit(data, size)) bad(path, "corrupt PNM: a header number has more than 9 digits");
  int w = 0, h = 0, comp = 0;
  // stb_image reports a top-down BMP's height as negative (a fuzzing finding: 1.5 GB allocated).
  if (stbi_info_from_memory(data, int(size), &w, &h, &comp) &&
      std::llabs(int64_t(w)) * std::llabs(int64_t(h)) > limits.max_pixels)
    bad(path, too_many_pixels(std::llabs(int64_t(w)), std::llabs(int64_t(h)), limits.max_pixels));
  if (const std::string problem = bmp_truncation(data, size); !problem.empty()) bad(path, problem);
  if (size >= 8 && std::memcmp(data, "\x89PNG", 4) == 0) {
    const std::string problem = png_chunk_problem(data, size);
    if (!problem.empty()) bad(path, problem);
  }
  // Debian's stb_image (2022-09) converts 16-bit PNM with the 8-bit routine (a heap overflow, found
  // by fuzzing) and ignores a short read of PNM pixel data (uninitialized pixels): refuse both.
  if (data[0] == 'P' && stbi_info_from_memory(data, int(size), &w, &h, &comp)) {
    if (stbi_is_16_bit_from_memory(data, int(size))) bad(path, "16-bit PNM (maxval above 255) is not supported");
    if (uint64_t(w) * uint64_t(h) * uint64_t(comp) > size)
      bad(path, fmt::format("truncated PNM: {}x{}x{} bytes of pixels, the file has {} bytes", w, h, comp, size));
  }
  stbi_uc* px = stbi_load_from_memory(data, int(size), &w, &h, &comp, 3);
  if (!px) {
    const char* why = stbi_failure_reason();
    const bool known = size >= 8 && (std::memcmp(data, "\x89PNG", 4) == 0 || std::memcmp(data, "BM", 2) == 0 ||
                                     data[0] == 'P');
    bad(path, known ? fmt::format("corrupt image: {}", why ? why : "decoder error")
                    : "not a JPEG, PNG, BMP or PNM image (unknown file signature)");
  }
  if (w <= 0 || h <= 0) {  // stb_image accepts a PNM header of height 0 (found by fuzzing)
    stbi_image_free(px);
    bad(path, fmt::format("corrupt image: {}x{} pixels", w, h));
  }
  out.reshape(h, w, 3);
  std::memcpy(out.data(), px, size_t(w) * size_t(h) * 3);
  stbi_image_free(px);
}

void load_image_file(const std::string& path, Image& out, std::vector<uint8_t>& buffer, const DecodeLimits& limits) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) bad(path, fmt::format("cannot open: {}", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    bad(path, "not a regular file");
  }
  buffer.resize(size_t(st.st_size));
  size_t got = 0;
  while (got < buffer.size()) {
    const ssize_t n = ::read(fd, buffer.data() + got, buffer.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = errno;
      ::close(fd);
      bad(path, n < 0 ? fmt::format("read error: {}", std::strerror(e)) : "file shrank while reading");
    }
    got += size_t(n);
  }
  ::close(fd);
  decode_image(path, buffer.data(), buffer.size(), out, limits);
}

}  // namespace cnn
