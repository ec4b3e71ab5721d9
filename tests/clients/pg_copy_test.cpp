// COPY text escaping as the server writes and reads it.
#include "clients/pg_copy.hpp"

#include <gtest/gtest.h>

namespace sluice {
namespace {

std::string escaped(std::string_view v) {
  std::string out;
  append_copy_text(out, v);
  return out;
}

TEST(PgCopy, EscapesWhatCopyEscapes) {
  EXPECT_EQ(escaped("plain text"), "plain text");
  EXPECT_EQ(escaped("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
  EXPECT_EQ(escaped(std::string("\b\f\v", 3)), "\\b\\f\\v");
  EXPECT_EQ(escaped("\\N"), "\\\\N");  // a value that reads like NULL stays a value
  EXPECT_EQ(escaped(""), "");
}

TEST(PgCopy, UnescapingUndoesEscaping) {
  for (std::string v : {"", "x", "a\tb", "back\\slash", "\\N", "line\nbreak\r", "tail\\"}) {
    EXPECT_EQ(unescape_copy_text(escaped(v)), v) << v;
  }
}

TEST(PgCopy, NumbersAndNull) {
  std::string out;
  append_copy_int(out, -9223372036854775807 - 1);
  out.push_back('\t');
  append_copy_null(out);
  EXPECT_EQ(out, "-9223372036854775808\t\\N");
}

}  // namespace
}  // namespace sluice
