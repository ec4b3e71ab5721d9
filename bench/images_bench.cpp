// Image validation benchmark: the cost of walking a whole JPEG or PNG body before it is stored.
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <random>
#include <string>

#include "clients/image_validate.hpp"

namespace sluice {
namespace {

// A baseline JPEG of about `size` bytes whose scan data is random, with every 0xFF stuffed as an
// encoder would (FF 00), so the walk meets a stuffed byte every 256 bytes or so.
std::string make_jpeg(std::size_t size) {
  std::string b("\xff\xd8\xff\xc0\x00\x11\x08\x03\x00\x04\x00\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 21);
  b += std::string("\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00", 14);
  std::mt19937 rng(7);
  while (b.size() + 2 < size) {
    const auto c = static_cast<char>(rng() & 0xff);
    b += c;
    if (c == '\xff') b += '\0';
  }
  return b + "\xff\xd9";
}

// A PNG of about `size` bytes in 8 KiB IDAT chunks (libpng's default), each with its CRC-32.
std::string make_png(std::size_t size) {
  std::string b("\x89PNG\r\n\x1a\n", 8);
  auto chunk = [&](const std::string& type, const std::string& data) {
    const auto be32 = [&](std::uint32_t v) {
      for (int shift = 24; shift >= 0; shift -= 8) b += static_cast<char>(v >> shift & 0xff);
    };
    be32(static_cast<std::uint32_t>(data.size()));
    const std::string body = type + data;
    b += body;
    be32(static_cast<std::uint32_t>(
        crc32(0L, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))));
  };
  chunk("IHDR", std::string("\x00\x00\x04\x00\x00\x00\x03\x00\x08\x02\x00\x00\x00", 13));
  std::mt19937 rng(7);
  while (b.size() + 12 < size) {
    std::string data(std::min<std::size_t>(8192, size - b.size() - 12), '\0');
    for (char& c : data) c = static_cast<char>(rng() & 0xff);
    chunk("IDAT", data);
  }
  chunk("IEND", "");
  return b;
}

void run(benchmark::State& state, const std::string& image) {
  for (auto _ : state) {
    ImageCheck check = validate_image(image);
    benchmark::DoNotOptimize(check);
    if (!check.ok()) state.SkipWithError(check.problem.c_str());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(image.size()));
  state.SetItemsProcessed(state.iterations());
}

void BM_ValidateJpeg(benchmark::State& state) {
  run(state, make_jpeg(static_cast<std::size_t>(state.range(0))));
}
BENCHMARK(BM_ValidateJpeg)->Arg(8 << 10)->Arg(1 << 20);

void BM_ValidatePng(benchmark::State& state) {
  run(state, make_png(static_cast<std::size_t>(state.range(0))));
}
BENCHMARK(BM_ValidatePng)->Arg(8 << 10)->Arg(1 << 20);

}  // namespace
}  // namespace sluice
