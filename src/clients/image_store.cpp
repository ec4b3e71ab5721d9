// The image store: files named by content, an index of URL validators in a tab-separated file.
#include "clients/image_store.hpp"

#include "clients/pg.hpp"
#include "clients/sha256.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace sluice {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == '\t') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

// Tabs and newlines cannot appear in URLs or validators sluice accepts, but an index must never be
// corrupted by one that does.
bool clean(std::string_view s) {
  return s.find_first_of("\t\r\n") == std::string_view::npos;
}

// Writes the whole file, keeping errno for the caller; false on any failure (the file is removed).
bool write_file(const std::string& path, std::string_view bytes, int& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = errno;
    return false;
  }
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      ::close(fd);
      ::unlink(path.c_str());
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  // Delayed allocation reports a full disk only here.
  if (::close(fd) != 0) {
    error = errno;
    ::unlink(path.c_str());
    return false;
  }
  return true;
}

}  // namespace

ImageStoreError::ImageStoreError(const std::string& what, int error_number)
    : std::runtime_error("image store: " + what + ": " + std::strerror(error_number)), errno_(error_number) {}

bool ImageStoreError::fatal() const {
  return errno_ != EFBIG;
}

ImageStore::ImageStore(std::string dir, bool read_only, std::optional<std::string> conninfo)
    : dir_(std::move(dir)), read_only_(read_only), conninfo_(std::move(conninfo)) {
  if (conninfo_)
    load_database();
  else
    load_file();
}

void ImageStore::load_database() {
  auto c = connect(*conninfo_);
  pqxx::read_transaction t{*c};
  for (const auto& r : t.exec("SELECT url, coalesce(etag, ''), coalesce(last_modified, ''), sha256, path, "
                              "coalesce(mime, ''), coalesce(width, 0), coalesce(height, 0), coalesce(bytes, 0) "
                              "FROM image_cache WHERE sha256 IS NOT NULL AND path IS NOT NULL")) {
    UrlEntry e;
    e.etag = r[1].as<std::string>();
    e.last_modified = r[2].as<std::string>();
    e.image.sha256 = r[3].as<std::string>();
    e.image.path = r[4].as<std::string>();
    e.image.mime = r[5].as<std::string>();
    e.image.width = r[6].as<std::uint32_t>();
    e.image.height = r[7].as<std::uint32_t>();
    e.image.bytes = r[8].as<std::uint64_t>();
    // An entry whose file is gone is useless for a 304: forget it so the image is fetched again.
    if (fs::exists(e.image.path)) urls_[r[0].as<std::string>()] = std::move(e);
  }
}

void ImageStore::load_file() {
  std::ifstream in(dir_ + "/index.tsv");
  for (std::string line; std::getline(in, line);) {
    auto f = split_tabs(line);
    if (f.size() != 9) continue;
    UrlEntry e;
    e.etag = f[1];
    e.last_modified = f[2];
    e.image.sha256 = f[3];
    e.image.path = f[4];
    e.image.mime = f[5];
    try {
      e.image.width = static_cast<std::uint32_t>(std::stoul(f[6]));
      e.image.height = static_cast<std::uint32_t>(std::stoul(f[7]));
      e.image.bytes = std::stoull(f[8]);
    } catch (const std::exception&) {
      continue;
    }
    // An entry whose file is gone is useless for a 304: forget it so the image is fetched again.
    if (fs::exists(e.image.path)) urls_[f[0]] = std::move(e);
  }
}

StoredImage ImageStore::put(std::string_view bytes, std::string_view ext, std::string_view mime, std::uint32_t width,
                            std::uint32_t height) {
  StoredImage img;
  img.sha256 = sha256_hex(bytes);
  img.mime = std::string(mime);
  img.width = width;
  img.height = height;
  img.bytes = bytes.size();
  // One level of 256 folders: a folder per image pair of hex digits more would make nearly every image
  // of a first run create a folder, and ext4 spreads new folders over the disk (its inode search was
  // most of a 10,000-image run's time). 1,000,000 images make 4,000 files a folder, which ext4's
  // hashed directories look up as fast as 40.
  const std::string prefix = img.sha256.substr(0, 2);
  fs::path folder = fs::path(dir_) / prefix;
  img.path = (folder / (img.sha256 + "." + std::string(ext))).string();
  if (read_only_ || fs::exists(img.path)) return img;
  if (!folder_made(prefix)) {
    std::error_code ec;
    fs::create_directories(folder, ec);
    if (ec) throw ImageStoreError("cannot create folder " + folder.string(), ec.value());
    std::lock_guard l(mutex_);
    folders_.insert(prefix);
  }
  static std::atomic<std::uint64_t> counter{0};
  static const pid_t pid = ::getpid();  // one system call per process, not per image
  std::string temp = img.path + ".tmp" + std::to_string(pid) + "." + std::to_string(counter++);
  if (int error = 0; !write_file(temp, bytes, error)) throw ImageStoreError("cannot write " + temp, error);
  if (std::rename(temp.c_str(), img.path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temp.c_str());
    throw ImageStoreError("cannot store " + img.path, error);
  }
  return img;
}

bool ImageStore::folder_made(const std::string& prefix) const {
  std::lock_guard l(mutex_);
  return folders_.count(prefix) > 0;
}

std::optional<UrlEntry> ImageStore::find(const std::string& url) const {
  std::lock_guard l(mutex_);
  auto it = urls_.find(url);
  if (it == urls_.end()) return std::nullopt;
  return it->second;
}

void ImageStore::remember(const std::string& url, UrlEntry entry) {
  if (!clean(url) || !clean(entry.etag) || !clean(entry.last_modified)) return;
  std::lock_guard l(mutex_);
  urls_[url] = std::move(entry);
}

void ImageStore::save() const {
  if (read_only_) return;
  if (conninfo_)
    save_database();
  else
    save_file();
}

void ImageStore::save_database() const {
  std::lock_guard l(mutex_);
  auto c = connect(*conninfo_);
  pqxx::work t{*c};
  t.exec0("CREATE TEMP TABLE sluice_images (LIKE image_cache INCLUDING DEFAULTS) ON COMMIT DROP");
  {
    pqxx::stream_to s{
        t, "sluice_images",
        std::vector<std::string>{"url", "etag", "last_modified", "sha256", "mime", "width", "height", "bytes", "path"}};
    for (const auto& [url, e] : urls_) {
      if (!e.fetched_this_run) continue;
      s << std::make_tuple(url, e.etag, e.last_modified, e.image.sha256, e.image.mime,
                           static_cast<std::int64_t>(e.image.width), static_cast<std::int64_t>(e.image.height),
                           static_cast<std::int64_t>(e.image.bytes), e.image.path);
    }
    s.complete();
  }
  t.exec0(
      "INSERT INTO image_cache AS c (url, etag, last_modified, sha256, mime, width, height, bytes, path, fetched_at) "
      "SELECT url, nullif(etag, ''), nullif(last_modified, ''), sha256, mime, width, height, bytes, path, now() "
      "FROM sluice_images ON CONFLICT (url) DO UPDATE SET etag = EXCLUDED.etag, last_modified = "
      "EXCLUDED.last_modified, sha256 = EXCLUDED.sha256, mime = EXCLUDED.mime, width = EXCLUDED.width, height = "
      "EXCLUDED.height, bytes = EXCLUDED.bytes, path = EXCLUDED.path, fetched_at = EXCLUDED.fetched_at");
  t.commit();
}

void ImageStore::save_file() const {
  std::lock_guard l(mutex_);
  std::error_code ec;
  fs::create_directories(dir_, ec);
  std::string path = dir_ + "/index.tsv";
  std::string temp = path + ".partial";
  {
    std::ofstream out(temp, std::ios::binary);
    for (const auto& [url, e] : urls_)
      out << url << '\t' << e.etag << '\t' << e.last_modified << '\t' << e.image.sha256 << '\t' << e.image.path << '\t'
          << e.image.mime << '\t' << e.image.width << '\t' << e.image.height << '\t' << e.image.bytes << '\n';
    if (!out) throw std::runtime_error("cannot write " + temp);
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write " + path);
}

}  // namespace sluice
