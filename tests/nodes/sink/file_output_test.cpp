// FileOutput: whole-file replacement for regular files only; devices, FIFOs and links are respected.
#include "nodes/sink/file_output.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/test_support.hpp"

namespace sluice {
namespace {

namespace fs = std::filesystem;

TEST(FileOutput, ReplacesARegularFileWholeAndKeepsItsPermissions) {
  test::TempDir dir;
  std::string path = dir.file("out.ndjson");
  test::write_file(path, "old\n");
  ::chmod(path.c_str(), 0640);
  FileOutput out;
  out.open(path);
  out.write("new\n");
  EXPECT_EQ(test::read_file(path), "old\n");
  out.close();
  EXPECT_EQ(test::read_file(path), "new\n");
  EXPECT_FALSE(fs::exists(path + ".partial"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
}

TEST(FileOutput, CreatesNothingUntilItWrites) {
  test::TempDir dir;
  std::string path = dir.file("new/folder/out.ndjson");
  {
    FileOutput out;
    out.open(path);
  }
  EXPECT_FALSE(fs::exists(dir.file("new")));
  FileOutput out;
  out.open(path);
  out.close();  // an empty output is still an output
  EXPECT_TRUE(fs::is_regular_file(path));
  EXPECT_EQ(test::read_file(path), "");
}

TEST(FileOutput, AnUnfinishedFileLeavesTheOldOneAndNoTemp) {
  test::TempDir dir;
  std::string path = dir.file("out.ndjson");
  test::write_file(path, "old\n");
  {
    FileOutput out;
    out.open(path);
    out.write("half");
  }
  EXPECT_EQ(test::read_file(path), "old\n");
  EXPECT_FALSE(fs::exists(path + ".partial"));
}

TEST(FileOutput, FollowsASymbolicLinkInsteadOfReplacingIt) {
  test::TempDir dir;
  fs::create_directory(dir.file("real"));
  std::string target = dir.file("real/products.ndjson");
  test::write_file(target, "old\n");
  std::string link = dir.file("products.ndjson");
  fs::create_symlink("real/products.ndjson", link);
  FileOutput out;
  out.open(link);
  out.write("new\n");
  out.close();
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_EQ(test::read_file(target), "new\n");
  EXPECT_FALSE(fs::exists(target + ".partial"));
}

TEST(FileOutput, WritesThroughALinkToACharacterDeviceWithoutReplacingIt) {
  test::TempDir dir;
  std::string link = dir.file("null");
  fs::create_symlink("/dev/null", link);
  FileOutput out;
  out.open(link);
  out.write("rows\n");
  out.close();
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_TRUE(fs::is_character_file("/dev/null"));
  EXPECT_FALSE(fs::exists(dir.file("null.partial")));
  EXPECT_FALSE(fs::exists("/dev/null.partial"));
}

TEST(FileOutput, WritesIntoAFifoAndLeavesItAFifo) {
  test::TempDir dir;
  std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string received;
  std::thread reader([&] {
    std::ifstream in(fifo, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    received = ss.str();
  });
  FileOutput out;
  out.open(fifo);
  out.write("a\n");
  out.write("b\n");
  out.close();
  reader.join();
  EXPECT_EQ(received, "a\nb\n");
  EXPECT_TRUE(fs::is_fifo(fifo));
  EXPECT_FALSE(fs::exists(fifo + ".partial"));
}

TEST(FileOutput, RefusesADirectoryAndAnEmptyPath) {
  test::TempDir dir;
  FileOutput out;
  EXPECT_THROW(out.open(dir.path().string()), std::runtime_error);
  EXPECT_THROW(out.open(""), std::runtime_error);
}

TEST(FileOutput, NeverWritesThroughALinkPlantedAtTheTempName) {
  test::TempDir dir;
  std::string victim = dir.file("victim");
  test::write_file(victim, "precious\n");
  std::string path = dir.file("out.ndjson");
  fs::create_symlink(victim, path + ".partial");
  FileOutput out;
  out.open(path);
  EXPECT_THROW(out.write("x\n"), std::runtime_error);
  EXPECT_EQ(test::read_file(victim), "precious\n");
}

TEST(FileOutput, ReplacesATempFileLeftByAKilledRun) {
  test::TempDir dir;
  std::string path = dir.file("out.ndjson");
  test::write_file(path + ".partial", "stale");
  FileOutput out;
  out.open(path);
  out.write("fresh\n");
  out.close();
  EXPECT_EQ(test::read_file(path), "fresh\n");
}

}  // namespace
}  // namespace sluice
