// Tests for ImageStore's disk errors: which ones are fatal for the run and what they say.
#include "clients/image_store.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>

#include "support/test_support.hpp"

namespace sluice {
namespace {

TEST(ImageStore, StoresContentAddressedAndOnce) {
  test::TempDir dir;
  ImageStore store(dir.file("images"), false);
  const StoredImage a = store.put("bytes", "jpg", "image/jpeg", 1, 1);
  EXPECT_TRUE(std::filesystem::exists(a.path));
  EXPECT_EQ(store.put("bytes", "jpg", "image/jpeg", 1, 1).path, a.path);
  EXPECT_EQ(a.bytes, 5u);
  // One level of folders named by the hash's first two hex digits.
  EXPECT_EQ(a.path, dir.file("images") + "/" + a.sha256.substr(0, 2) + "/" + a.sha256 + ".jpg");
}

TEST(ImageStore, AFolderRemovedDuringTheRunIsAFatalErrorNotACrash) {
  test::TempDir dir;
  ImageStore store(dir.file("images"), false);
  const StoredImage a = store.put("bytes", "jpg", "image/jpeg", 1, 1);
  std::filesystem::remove_all(dir.file("images"));
  // The folder is remembered as made: writing into it again fails cleanly.
  EXPECT_THROW(store.put("bytes", "jpg", "image/jpeg", 1, 1), ImageStoreError);
  EXPECT_FALSE(std::filesystem::exists(a.path));
}

TEST(ImageStore, AFolderThatCannotBeCreatedIsAFatalError) {
  // A regular file where a folder must be: fails for root too, unlike permissions.
  test::TempDir dir;
  test::write_file(dir.file("images"), "x");
  ImageStore store(dir.file("images"), false);
  try {
    store.put("bytes", "jpg", "image/jpeg", 1, 1);
    FAIL() << "no error";
  } catch (const ImageStoreError& e) {
    EXPECT_EQ(e.error_number(), ENOTDIR);
    EXPECT_TRUE(e.fatal());
    EXPECT_NE(std::string(e.what()).find("image store: cannot create folder"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Not a directory"), std::string::npos) << e.what();
  }
}

TEST(ImageStore, OnlyAFileTooLargeForTheFileSystemConcernsOneImage) {
  EXPECT_FALSE(ImageStoreError("x", EFBIG).fatal());
  for (int e : {ENOSPC, EROFS, EACCES, EDQUOT, EIO, ENOTDIR}) EXPECT_TRUE(ImageStoreError("x", e).fatal()) << e;
  EXPECT_EQ(std::string(ImageStoreError("cannot write f", ENOSPC).what()),
            "image store: cannot write f: No space left on device");
}

}  // namespace
}  // namespace sluice
