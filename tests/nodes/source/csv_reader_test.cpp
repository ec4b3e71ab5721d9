// Unit tests for the streaming CSV reader, each run at several chunk sizes to catch boundary bugs.
#include "nodes/source/csv_reader.hpp"

#include <gtest/gtest.h>

#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace sluice {

inline void PrintTo(CsvErrorCode code, std::ostream* os) {
  *os << to_string(code);
}

namespace {

using Fields = std::vector<std::string>;

// A string literal with embedded NUL bytes, without the terminating one.
template <std::size_t N>
std::string bytes(const char (&text)[N]) {
  return std::string(text, N - 1);
}

struct ReadResult {
  std::vector<CsvRecord> records;
  std::uint64_t consumed = 0;
};

class CsvReaderTest : public ::testing::TestWithParam<std::size_t> {
 protected:
  ReadResult read(std::string_view input, CsvDialect dialect = {}) const {
    std::istringstream in{std::string(input)};
    CsvReader reader(in, dialect, GetParam());
    ReadResult result;
    CsvRecord record;
    std::uint64_t last_consumed = 0;
    while (reader.next(record)) {
      EXPECT_GE(reader.bytes_consumed(), last_consumed);
      last_consumed = reader.bytes_consumed();
      result.records.push_back(record);
      if (result.records.size() > input.size() + 1) {
        ADD_FAILURE() << "more records than input bytes: the reader is not advancing";
        break;
      }
    }
    EXPECT_FALSE(reader.next(record)) << "next() must stay false after the end";
    result.consumed = reader.bytes_consumed();
    EXPECT_EQ(result.consumed, input.size());
    EXPECT_FALSE(reader.io_error());
    return result;
  }

  std::vector<CsvRecord> records(std::string_view input, CsvDialect dialect = {}) const {
    return read(input, dialect).records;
  }
};

CsvDialect with_delimiter(char delimiter, char quote = '"') {
  CsvDialect dialect;
  dialect.delimiter = delimiter;
  dialect.quote = quote;
  return dialect;
}

TEST_P(CsvReaderTest, SimpleRecordsCarryLineAndNumber) {
  const auto r = records("a,b,c\n1,2,3\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(r[1].fields, (Fields{"1", "2", "3"}));
  EXPECT_EQ(r[0].line, 1u);
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_EQ(r[0].number, 1u);
  EXPECT_EQ(r[1].number, 2u);
  EXPECT_EQ(r[1].error, CsvErrorCode::none);
  EXPECT_TRUE(r[1].message.empty());
}

TEST_P(CsvReaderTest, EmptyInputHasNoRecords) {
  EXPECT_TRUE(records("").empty());
  EXPECT_TRUE(records("\n\r\n\r").empty());
}

TEST_P(CsvReaderTest, SemicolonDelimiter) {
  const auto r = records("a;\"b;c\";d,e\n", with_delimiter(';'));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b;c", "d,e"}));
}

TEST_P(CsvReaderTest, TabDelimiterWithQuoting) {
  const auto r = records("a\t\"b\tc\"\t\n", with_delimiter('\t'));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b\tc", ""}));
}

TEST_P(CsvReaderTest, TabDelimiterWithoutQuotingKeepsQuotesLiterally) {
  const auto r = records("\"a\tb\"c\"\td\n\"x\ny\n", with_delimiter('\t', '\0'));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].fields, (Fields{"\"a", "b\"c\"", "d"}));
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[1].fields, (Fields{"\"x"}));
  EXPECT_EQ(r[2].fields, (Fields{"y"}));
  EXPECT_EQ(r[2].line, 3u);
}

TEST_P(CsvReaderTest, PipeDelimiterWithSingleQuote) {
  CsvDialect dialect;
  dialect.delimiter = '|';
  dialect.quote = '\'';
  const auto r = records("'a|b'|'it''s'|\"x\"\n", dialect);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{"a|b", "it's", "\"x\""}));
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
}

TEST_P(CsvReaderTest, BackslashEscapeInsideQuotes) {
  CsvDialect dialect;
  dialect.escape = '\\';
  const auto r = records("\"a\\\"b\",\"c\\\\d\",e\\f,\"g\"\"h\"\n\"x\\\ny\",z\n", dialect);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a\"b", "c\\d", "e\\f", "g\"h"}));
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[1].fields, (Fields{"x\ny", "z"}));
  EXPECT_EQ(r[1].line, 2u);
}

TEST_P(CsvReaderTest, BackslashEscapedCrLfCountsAsOneLine) {
  CsvDialect dialect;
  dialect.escape = '\\';
  const auto r = records("\"a\\\r\nb\"\nnext\n", dialect);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a\r\nb"}));
  EXPECT_EQ(r[1].fields, (Fields{"next"}));
  EXPECT_EQ(r[1].line, 3u);
}

TEST_P(CsvReaderTest, EscapeAtEndOfInputIsUnterminated) {
  CsvDialect dialect;
  dialect.escape = '\\';
  const auto r = records("\"ab\\", dialect);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::unterminated_quote);
  EXPECT_EQ(r[0].fields, (Fields{"ab"}));
}

TEST_P(CsvReaderTest, DoubledQuotes) {
  const auto r = records("\"a\"\"b\",\"\"\"\",\"\",\"\"\"x\"\"\"\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{"a\"b", "\"", "", "\"x\""}));
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
}

TEST_P(CsvReaderTest, MixedLineEndingsCountLines) {
  const auto r = records("a\r\nb\nc\rd\n\re\r\n");
  ASSERT_EQ(r.size(), 5u);
  const std::vector<std::string> expected_fields{"a", "b", "c", "d", "e"};
  const std::vector<std::uint64_t> expected_lines{1, 2, 3, 4, 6};
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].fields, (Fields{expected_fields[i]})) << i;
    EXPECT_EQ(r[i].line, expected_lines[i]) << i;
    EXPECT_EQ(r[i].number, i + 1) << i;
  }
}

TEST_P(CsvReaderTest, BlankLinesAreSkippedButCounted) {
  const auto r = records("a\n\n\r\n\rb\r\r\nc");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].line, 1u);
  EXPECT_EQ(r[1].fields, (Fields{"b"}));
  EXPECT_EQ(r[1].line, 5u);
  EXPECT_EQ(r[1].number, 2u);
  EXPECT_EQ(r[2].fields, (Fields{"c"}));
  EXPECT_EQ(r[2].line, 7u);
  EXPECT_EQ(r[2].number, 3u);
}

TEST_P(CsvReaderTest, NonBlankShortLinesAreRecords) {
  const auto r = records(" \n,\n\"\"\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].fields, (Fields{" "}));
  EXPECT_EQ(r[1].fields, (Fields{"", ""}));
  EXPECT_EQ(r[2].fields, (Fields{""}));
}

TEST_P(CsvReaderTest, WhitespaceIsKept) {
  const auto r = records(" a , b \n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{" a ", " b "}));
}

TEST_P(CsvReaderTest, BomStrippedOnlyAtStart) {
  const auto r = records(
      "\xEF\xBB\xBF"
      "a,b\n\xEF\xBB\xBF"
      "c,d\n");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(r[1].fields, (Fields{"\xEF\xBB\xBF"
                                 "c",
                                 "d"}));
  EXPECT_EQ(r[1].error, CsvErrorCode::none);
}

TEST_P(CsvReaderTest, BomBeforeQuotedField) {
  const auto r = records("\xEF\xBB\xBF\"a,b\",c");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{"a,b", "c"}));
}

TEST_P(CsvReaderTest, BomKeptWhenStrippingIsOff) {
  CsvDialect dialect;
  dialect.strip_bom = false;
  const auto r = records(
      "\xEF\xBB\xBF"
      "a,b\n",
      dialect);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].fields, (Fields{"\xEF\xBB\xBF"
                                 "a",
                                 "b"}));
}

TEST_P(CsvReaderTest, OnlyBomOrPartialBom) {
  EXPECT_TRUE(records("\xEF\xBB\xBF").empty());
  EXPECT_TRUE(records("\xEF\xBB\xBF\r\n").empty());
  const auto r = records(
      "\xEF\xBB"
      "a\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::invalid_utf8);
  EXPECT_EQ(r[0].fields, (Fields{"\xEF\xBB"
                                 "a"}));
  const auto short_input = records("ab");
  ASSERT_EQ(short_input.size(), 1u);
  EXPECT_EQ(short_input[0].fields, (Fields{"ab"}));
}

TEST_P(CsvReaderTest, MissingFinalNewline) {
  const auto r = records("a,b\n1,2");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].fields, (Fields{"1", "2"}));
  EXPECT_EQ(r[1].line, 2u);
  const auto quoted = records("a,\"b\"");
  ASSERT_EQ(quoted.size(), 1u);
  EXPECT_EQ(quoted[0].fields, (Fields{"a", "b"}));
}

TEST_P(CsvReaderTest, TrailingDelimiterMeansEmptyLastField) {
  const auto r = records("a,b,\nc,\"\",");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "b", ""}));
  EXPECT_EQ(r[1].fields, (Fields{"c", "", ""}));
}

TEST_P(CsvReaderTest, QuotedFieldSpanningThreeLines) {
  const auto r = records("h1,h2\n\"l1\nl2\r\nl3\",x\nnext,y\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[1].fields, (Fields{"l1\nl2\r\nl3", "x"}));
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_EQ(r[2].fields, (Fields{"next", "y"}));
  EXPECT_EQ(r[2].line, 5u);
  EXPECT_EQ(r[2].number, 3u);
}

TEST_P(CsvReaderTest, BareCrInsideQuotesCountsALine) {
  const auto r = records("\"a\rb\r\rc\"\rd");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].fields, (Fields{"a\rb\r\rc"}));
  EXPECT_EQ(r[1].fields, (Fields{"d"}));
  EXPECT_EQ(r[1].line, 5u);
}

TEST_P(CsvReaderTest, NulByteIsARecordError) {
  const auto r = records(bytes("a,b\0c,d\n\"x\0\",y\ne,f\n"));
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].error, CsvErrorCode::nul_byte);
  EXPECT_EQ(r[0].line, 1u);
  EXPECT_EQ(r[0].fields, (Fields{"a", std::string("b\0c", 3), "d"}));
  EXPECT_NE(r[0].message.find("byte 2 of field 2"), std::string::npos) << r[0].message;
  EXPECT_EQ(r[1].error, CsvErrorCode::nul_byte);
  EXPECT_EQ(r[1].fields.size(), 2u);
  EXPECT_EQ(r[2].error, CsvErrorCode::none);
  EXPECT_EQ(r[2].fields, (Fields{"e", "f"}));
  EXPECT_EQ(r[2].line, 3u);
}

TEST_P(CsvReaderTest, Utf16InputGivesErrorsNotACrash) {
  const std::string utf16 = bytes(
      "\xFF\xFE"
      "a\0,\0b\0\n\0c\0,\0d\0\n\0");
  const auto r = records(utf16);
  ASSERT_FALSE(r.empty());
  for (const auto& record : r) EXPECT_NE(record.error, CsvErrorCode::none) << record.line;
}

struct BadUtf8 {
  const char* name;
  std::string bytes;
};

TEST_P(CsvReaderTest, InvalidUtf8KindsAreErrorsAndReadingContinues) {
  const std::vector<BadUtf8> cases{
      {"lone continuation", "\x80"},
      {"overlong two-byte", "\xC0\xAF"},
      {"overlong C1", "\xC1\xBF"},
      {"overlong three-byte", "\xE0\x80\xAF"},
      {"overlong four-byte", "\xF0\x8F\xBF\xBF"},
      {"surrogate", "\xED\xA0\x80"},
      {"low surrogate", "\xED\xBF\xBF"},
      {"above U+10FFFF", "\xF4\x90\x80\x80"},
      {"F5 lead", "\xF5\x80\x80\x80"},
      {"FF byte", "\xFF"},
      {"truncated three-byte", "\xE2\x82"},
      {"missing continuation",
       "\xE2\x82"
       "A"},
      {"latin-1 e acute", "caf\xE9"},
  };
  for (const auto& bad : cases) {
    SCOPED_TRACE(bad.name);
    const auto r = records("ok,x\nab," + bad.bytes + ",z\n\"" + bad.bytes + "\"\n\xC3\xA9,y");
    ASSERT_EQ(r.size(), 4u);
    EXPECT_EQ(r[0].error, CsvErrorCode::none);
    EXPECT_EQ(r[1].error, CsvErrorCode::invalid_utf8);
    EXPECT_EQ(r[1].line, 2u);
    EXPECT_EQ(r[1].fields, (Fields{"ab", bad.bytes, "z"}));
    EXPECT_NE(r[1].message.find("of field 2"), std::string::npos) << r[1].message;
    EXPECT_EQ(r[2].error, CsvErrorCode::invalid_utf8);
    EXPECT_EQ(r[2].line, 3u);
    EXPECT_EQ(r[3].error, CsvErrorCode::none);
    EXPECT_EQ(r[3].fields, (Fields{"\xC3\xA9", "y"}));
    EXPECT_EQ(r[3].line, 4u);
  }
}

TEST_P(CsvReaderTest, InvalidUtf8MessageGivesBytePosition) {
  const auto r = records("a,ab\xC3(\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::invalid_utf8);
  EXPECT_EQ(r[0].message, "invalid UTF-8 at byte 3 of field 2");
}

TEST_P(CsvReaderTest, InvalidUtf8AfterLongAsciiRun) {
  const std::string ascii(37, 'q');
  const auto r = records(ascii + "\xED\xA0\x80" + ascii + "\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::invalid_utf8);
  EXPECT_EQ(r[0].message, "invalid UTF-8 at byte 38 of field 1");
}

TEST_P(CsvReaderTest, ValidUtf8Boundaries) {
  const auto r = records(
      "\xC2\x80,\xDF\xBF,\xE0\xA0\x80,\xED\x9F\xBF,\xEE\x80\x80,\xEF\xBF\xBF,\xF0\x90\x80\x80,\xF4\x8F\xBF\xBF,"
      "\xF0\x9F\x98\x80 \xE2\x82\xAC\n");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::none) << r[0].message;
  EXPECT_EQ(r[0].fields.size(), 9u);
}

TEST_P(CsvReaderTest, Utf8CheckCanBeTurnedOff) {
  CsvDialect dialect;
  dialect.check_utf8 = false;
  const auto r = records("caf\xE9,\xFF\n", dialect);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[0].fields, (Fields{"caf\xE9", "\xFF"}));
}

TEST_P(CsvReaderTest, FieldTooLargeIsTruncatedAndNextRecordIsRead) {
  CsvDialect dialect;
  dialect.max_field_bytes = 4;
  const auto r = records("abcd,x\nabcdefgh,y\n\"ab\ncdefg\",z\nnext,w\n", dialect);
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[1].error, CsvErrorCode::field_too_large);
  EXPECT_EQ(r[1].fields, (Fields{"abcd", "y"}));
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_NE(r[1].message.find("field 1"), std::string::npos) << r[1].message;
  EXPECT_EQ(r[2].error, CsvErrorCode::field_too_large);
  EXPECT_EQ(r[2].fields, (Fields{"ab\nc", "z"}));
  EXPECT_EQ(r[2].line, 3u);
  EXPECT_EQ(r[3].error, CsvErrorCode::none);
  EXPECT_EQ(r[3].fields, (Fields{"next", "w"}));
  EXPECT_EQ(r[3].line, 5u);
}

TEST_P(CsvReaderTest, FieldExactlyAtLimit) {
  CsvDialect dialect;
  dialect.max_field_bytes = 4;
  const auto r = records("abcd,\"ab\"\"c\",\"ab\"\"cd\"\n", dialect);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::field_too_large);
  EXPECT_EQ(r[0].fields, (Fields{"abcd", "ab\"c", "ab\"c"}));
  EXPECT_NE(r[0].message.find("field 3"), std::string::npos) << r[0].message;
  const auto ok = records("abcd,\"ab\"\"c\"\n", dialect);
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].error, CsvErrorCode::none);
}

TEST_P(CsvReaderTest, DefaultFieldLimit) {
  const std::string at_limit(CsvDialect{}.max_field_bytes, 'x');
  const auto r = records(at_limit + "\n" + at_limit + "y,z\nok\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[0].fields[0].size(), at_limit.size());
  EXPECT_EQ(r[1].error, CsvErrorCode::field_too_large);
  EXPECT_EQ(r[1].fields[0].size(), at_limit.size());
  EXPECT_EQ(r[1].fields[1], "z");
  EXPECT_EQ(r[2].fields, (Fields{"ok"}));
}

TEST_P(CsvReaderTest, RecordExactlyAtLimit) {
  CsvDialect dialect;
  dialect.max_record_bytes = 12;
  const auto r = records("\"ab\",cd,efgh\r\n\"ab\",cd,efghi\r\n\"ab\",cd,efgh", dialect);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[0].fields, (Fields{"ab", "cd", "efgh"}));
  EXPECT_EQ(r[1].error, CsvErrorCode::record_too_large);
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_EQ(r[2].error, CsvErrorCode::none);
  EXPECT_EQ(r[2].line, 3u);
}

TEST_P(CsvReaderTest, RecordEndingInQuoteExactlyAtLimit) {
  CsvDialect dialect;
  dialect.max_record_bytes = 7;
  const auto r = records("ab,\"cd\"\nab,\"cde\"\nab,\"cd\"", dialect);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[0].fields, (Fields{"ab", "cd"}));
  EXPECT_EQ(r[1].error, CsvErrorCode::record_too_large);
  EXPECT_EQ(r[2].error, CsvErrorCode::none);
  EXPECT_EQ(r[2].fields, (Fields{"ab", "cd"}));
}

TEST_P(CsvReaderTest, RecordTooLargeOutsideQuotesKeepsQuoting) {
  CsvDialect dialect;
  dialect.max_record_bytes = 5;
  const auto r = records("abcdefgh,\"x\ny,z\",w\nnext\n", dialect);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].error, CsvErrorCode::record_too_large);
  EXPECT_EQ(r[0].line, 1u);
  EXPECT_EQ(r[0].fields, (Fields{"abcde"}));
  EXPECT_FALSE(r[0].message.empty());
  EXPECT_EQ(r[1].fields, (Fields{"next"}));
  EXPECT_EQ(r[1].line, 3u);
  EXPECT_EQ(r[1].error, CsvErrorCode::none);
}

TEST_P(CsvReaderTest, RecordTooLargeInsideQuoteResyncsAtLineEnd) {
  CsvDialect dialect;
  dialect.max_record_bytes = 10;
  const auto r = records("a,\"x\nxxxxxxxxxxxxxxxxx\nb,c\n\"d\",e\n", dialect);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].error, CsvErrorCode::record_too_large);
  EXPECT_EQ(r[0].line, 1u);
  EXPECT_EQ(r[0].fields, (Fields{"a", "x\nxxxxx"}));
  EXPECT_EQ(r[1].fields, (Fields{"b", "c"}));
  EXPECT_EQ(r[1].line, 3u);
  EXPECT_EQ(r[1].error, CsvErrorCode::none);
  EXPECT_EQ(r[2].fields, (Fields{"d", "e"}));
  EXPECT_EQ(r[2].line, 4u);
}

TEST_P(CsvReaderTest, RunawayQuoteWithDefaultLimitsResyncs) {
  CsvDialect dialect;
  dialect.max_record_bytes = 4096;
  std::string input = "id,name\n1,\"runaway\n";
  for (int i = 0; i < 2000; ++i) input += std::to_string(i) + ",row\n";
  const auto r = records(input, dialect);
  ASSERT_GE(r.size(), 3u);
  EXPECT_EQ(r[1].error, CsvErrorCode::record_too_large);
  EXPECT_EQ(r[1].line, 2u);
  for (std::size_t i = 2; i < r.size(); ++i) {
    EXPECT_EQ(r[i].error, CsvErrorCode::none) << i;
    EXPECT_EQ(r[i].fields.size(), 2u) << i;
  }
  EXPECT_EQ(r.back().fields, (Fields{"1999", "row"}));
  EXPECT_EQ(r.back().line, 2002u);
}

TEST_P(CsvReaderTest, RecordTooLargeReplacesFieldTooLarge) {
  CsvDialect dialect;
  dialect.max_field_bytes = 3;
  dialect.max_record_bytes = 8;
  const auto r = records("\"abcdefghijkl\nmn\",o\np\n", dialect);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].error, CsvErrorCode::record_too_large);
  EXPECT_EQ(r[0].fields, (Fields{"abc"}));
  EXPECT_EQ(r[1].fields, (Fields{"mn\"", "o"}));
  EXPECT_EQ(r[1].error, CsvErrorCode::stray_quote);
  EXPECT_EQ(r[2].fields, (Fields{"p"}));
  EXPECT_EQ(r[2].line, 3u);
}

TEST_P(CsvReaderTest, UnterminatedQuoteAtEndOfInput) {
  const auto r = records("a,b\n1,\"abc\ndef");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].error, CsvErrorCode::unterminated_quote);
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_EQ(r[1].fields, (Fields{"1", "abc\ndef"}));
  EXPECT_NE(r[1].message.find("line 2"), std::string::npos) << r[1].message;
}

TEST_P(CsvReaderTest, UnterminatedQuoteEndingInDoubledQuote) {
  const auto r = records("\"ab\"\"");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::unterminated_quote);
  EXPECT_EQ(r[0].fields, (Fields{"ab\""}));
}

TEST_P(CsvReaderTest, UnterminatedQuoteReplacesContentError) {
  const auto r = records(bytes("a\0b,\"c"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].error, CsvErrorCode::unterminated_quote);
}

TEST_P(CsvReaderTest, StrayQuoteInUnquotedField) {
  const auto r = records("ab\"c,d\ne\"\nf,g\n");
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].error, CsvErrorCode::stray_quote);
  EXPECT_EQ(r[0].fields, (Fields{"ab\"c", "d"}));
  EXPECT_EQ(r[1].error, CsvErrorCode::stray_quote);
  EXPECT_EQ(r[1].line, 2u);
  EXPECT_EQ(r[1].fields, (Fields{"e\""}));
  EXPECT_EQ(r[2].error, CsvErrorCode::none);
  EXPECT_EQ(r[2].line, 3u);
}

TEST_P(CsvReaderTest, CharactersAfterClosingQuote) {
  const auto r = records("\"ab\"c,d\n\"x\" ,y\n\"p\"\"q\"r\"\nok\n");
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0].error, CsvErrorCode::stray_quote);
  EXPECT_EQ(r[0].fields, (Fields{"abc", "d"}));
  EXPECT_EQ(r[1].error, CsvErrorCode::stray_quote);
  EXPECT_EQ(r[1].fields, (Fields{"x ", "y"}));
  EXPECT_EQ(r[2].error, CsvErrorCode::stray_quote);
  EXPECT_EQ(r[2].fields, (Fields{"p\"qr\""}));
  EXPECT_EQ(r[3].fields, (Fields{"ok"}));
  EXPECT_EQ(r[3].line, 4u);
  EXPECT_EQ(r[3].error, CsvErrorCode::none);
}

TEST_P(CsvReaderTest, BareQuotesAllowedWhenAsked) {
  CsvDialect dialect;
  dialect.allow_bare_quotes = true;
  const auto r = records("12\"N,\"a,b\"\n\"x\"y\n", dialect);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].error, CsvErrorCode::none);
  EXPECT_EQ(r[0].fields, (Fields{"12\"N", "a,b"}));
  EXPECT_EQ(r[1].error, CsvErrorCode::stray_quote);
}

TEST_P(CsvReaderTest, TenThousandColumns) {
  std::string header;
  std::string row;
  for (int i = 0; i < 10000; ++i) {
    if (i > 0) {
      header += ',';
      row += ',';
    }
    header += "c" + std::to_string(i);
    row += (i % 3 == 0) ? "\"v," + std::to_string(i) + "\"" : std::to_string(i);
  }
  const auto r = records(header + "\n" + row + "\n");
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(r[0].fields.size(), 10000u);
  ASSERT_EQ(r[1].fields.size(), 10000u);
  EXPECT_EQ(r[0].fields[9999], "c9999");
  EXPECT_EQ(r[1].fields[0], "v,0");
  EXPECT_EQ(r[1].fields[9998], "9998");
  EXPECT_EQ(r[1].fields[9999], "v,9999");
  EXPECT_EQ(r[1].error, CsvErrorCode::none);
}

TEST_P(CsvReaderTest, BytesConsumedReachesInputSize) {
  for (const std::string input : {"a,b\r\n", "a\r", "\xEF\xBB\xBF", "\"a\"", "x\n\n\n", "\"open"}) {
    SCOPED_TRACE(input);
    EXPECT_EQ(read(input).consumed, input.size());
  }
}

TEST_P(CsvReaderTest, RecordStorageIsReusedAndReset) {
  std::istringstream in("a,b,c\n\"x\"y\nz\n");
  CsvReader reader(in, {}, GetParam());
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.fields.size(), 3u);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.error, CsvErrorCode::stray_quote);
  EXPECT_EQ(record.fields, (Fields{"xy"}));
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.fields, (Fields{"z"}));
  EXPECT_EQ(record.error, CsvErrorCode::none);
  EXPECT_TRUE(record.message.empty());
  EXPECT_EQ(record.line, 3u);
  EXPECT_EQ(record.number, 3u);
  EXPECT_FALSE(reader.next(record));
}

// Serialises random tables with random quoting and line endings and checks they come back unchanged,
// with the line numbers the writer counted.
TEST_P(CsvReaderTest, RoundTripsRandomTables) {
  std::mt19937 rng(1234);
  const std::vector<std::string> atoms{"a",  "b", ",", "\"", "\n", "\r\n", "\r", " ", "\xC3\xA9", "\xF0\x9F\x98\x80",
                                       "xyz"};
  const std::vector<std::string> line_ends{"\n", "\r\n", "\r"};
  for (int table = 0; table < 40; ++table) {
    std::string text;
    std::vector<Fields> expected;
    std::vector<std::uint64_t> expected_lines;
    std::uint64_t line = 1;
    const int rows = 1 + static_cast<int>(rng() % 6);
    for (int row = 0; row < rows; ++row) {
      Fields fields;
      const int columns = 1 + static_cast<int>(rng() % 4);
      std::string out;
      for (int col = 0; col < columns; ++col) {
        std::string value;
        const int parts = static_cast<int>(rng() % 4);
        for (int p = 0; p < parts; ++p) value += atoms[rng() % atoms.size()];
        if (columns == 1 && value.empty()) value = "q";
        const bool needs_quotes = value.find_first_of(",\"\r\n") != std::string::npos;
        if (col > 0) out += ',';
        if (needs_quotes || rng() % 4 == 0) {
          out += '"';
          for (char c : value) {
            if (c == '"') out += '"';
            out += c;
          }
          out += '"';
        } else {
          out += value;
        }
        fields.push_back(value);
      }
      expected.push_back(fields);
      expected_lines.push_back(line);
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\n' || (out[i] == '\r' && (i + 1 == out.size() || out[i + 1] != '\n'))) ++line;
      }
      text += out;
      if (row + 1 < rows || rng() % 2 == 0) {
        text += line_ends[rng() % line_ends.size()];
        ++line;
      }
    }
    SCOPED_TRACE(text);
    const auto r = records(text);
    ASSERT_EQ(r.size(), expected.size());
    for (std::size_t i = 0; i < r.size(); ++i) {
      EXPECT_EQ(r[i].error, CsvErrorCode::none) << r[i].message;
      EXPECT_EQ(r[i].fields, expected[i]) << i;
      EXPECT_EQ(r[i].line, expected_lines[i]) << i;
    }
  }
}

// Arbitrary bytes must never crash or hang, and the result must not depend on the chunk size.
TEST_P(CsvReaderTest, GarbageIsChunkSizeIndependent) {
  std::mt19937 rng(99);
  const std::string alphabet = bytes("ab,\"\r\n\\\0\xC3\xA9\xFF");
  for (int round = 0; round < 300; ++round) {
    std::string input;
    const std::size_t size = rng() % 48;
    for (std::size_t i = 0; i < size; ++i) input += alphabet[rng() % alphabet.size()];
    CsvDialect dialect;
    dialect.max_field_bytes = 1 + rng() % 8;
    dialect.max_record_bytes = 1 + rng() % 16;
    if (round % 2 == 0) dialect.escape = '\\';
    SCOPED_TRACE(::testing::PrintToString(input));
    const auto got = records(input, dialect);
    std::istringstream in(input);
    CsvReader whole(in, dialect, 1 << 16);
    CsvRecord record;
    std::size_t i = 0;
    std::uint64_t last_line = 0;
    while (whole.next(record)) {
      ASSERT_LT(i, got.size());
      EXPECT_EQ(got[i].fields, record.fields);
      EXPECT_EQ(got[i].line, record.line);
      EXPECT_EQ(got[i].error, record.error);
      EXPECT_EQ(got[i].message, record.message);
      EXPECT_GT(record.line, last_line);
      last_line = record.line;
      ++i;
    }
    EXPECT_EQ(i, got.size());
  }
}

INSTANTIATE_TEST_SUITE_P(ChunkSizes, CsvReaderTest, ::testing::Values(1, 2, 3, 7, 64, CsvReader::default_chunk_size),
                         [](const ::testing::TestParamInfo<std::size_t>& param) {
                           return "chunk" + std::to_string(param.param);
                         });

TEST(CsvReaderErrors, ToStringIsStable) {
  EXPECT_EQ(to_string(CsvErrorCode::none), "none");
  EXPECT_EQ(to_string(CsvErrorCode::unterminated_quote), "unterminated_quote");
  EXPECT_EQ(to_string(CsvErrorCode::field_too_large), "field_too_large");
  EXPECT_EQ(to_string(CsvErrorCode::record_too_large), "record_too_large");
  EXPECT_EQ(to_string(CsvErrorCode::invalid_utf8), "invalid_utf8");
  EXPECT_EQ(to_string(CsvErrorCode::nul_byte), "nul_byte");
  EXPECT_EQ(to_string(CsvErrorCode::stray_quote), "stray_quote");
}

TEST(CsvReaderDialect, UnusableDialectsThrow) {
  std::istringstream in("a");
  const auto make = [&in](CsvDialect dialect, std::size_t chunk_size = CsvReader::default_chunk_size) {
    CsvReader reader(in, dialect, chunk_size);
  };
  EXPECT_THROW(make(with_delimiter('"')), std::invalid_argument);
  EXPECT_THROW(make(with_delimiter('\n')), std::invalid_argument);
  EXPECT_THROW(make(with_delimiter('\0')), std::invalid_argument);
  CsvDialect escape_is_delimiter;
  escape_is_delimiter.escape = ',';
  EXPECT_THROW(make(escape_is_delimiter), std::invalid_argument);
  CsvDialect escape_without_quote = with_delimiter(',', '\0');
  escape_without_quote.escape = '\\';
  EXPECT_THROW(make(escape_without_quote), std::invalid_argument);
  EXPECT_THROW(make({}, 0), std::invalid_argument);
  CsvDialect escape_is_quote;
  escape_is_quote.escape = '"';
  EXPECT_NO_THROW(make(escape_is_quote));
}

TEST(CsvReaderStream, FailedStreamEndsWithIoError) {
  std::istringstream in("a,b\n");
  in.setstate(std::ios::badbit);
  CsvReader reader(in, {});
  CsvRecord record;
  EXPECT_FALSE(reader.next(record));
  EXPECT_TRUE(reader.io_error());
}

}  // namespace
}  // namespace sluice
