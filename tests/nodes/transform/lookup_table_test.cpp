// LookupTable: finding rows by key, the first row of a key winning, and the memory a row costs.
#include "nodes/transform/lookup_table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace sluice {
namespace {

TEST(LookupTable, FindsEachKeyAndKeepsTheFirstRowOfARepeatedOne) {
  LookupTable t(2);
  const std::array<std::string_view, 2> a{"5", "Hammer"}, b{"", "Säge"}, again{"9", "later"};
  EXPECT_TRUE(t.add("A1", a));
  EXPECT_TRUE(t.add("A2", b));
  EXPECT_FALSE(t.add("A1", again));
  EXPECT_EQ(t.rows(), 2u);
  auto row = t.find("A1");
  ASSERT_TRUE(row);
  EXPECT_EQ(t.key(*row), "A1");
  EXPECT_EQ(t.value(*row, 0), "5");
  EXPECT_EQ(t.value(*row, 1), "Hammer");
  auto other = t.find("A2");
  ASSERT_TRUE(other);
  EXPECT_EQ(t.value(*other, 0), "");
  EXPECT_EQ(t.value(*other, 1), "Säge");
  EXPECT_FALSE(t.find("A3"));
  EXPECT_FALSE(t.find("A"));  // a prefix is not the key
}

TEST(LookupTable, AnEmptyTableFindsNothingAndStillTakesRows) {
  LookupTable t(1);
  t.compact();
  EXPECT_FALSE(t.find("x"));
  const std::array<std::string_view, 1> v{"1"};
  EXPECT_TRUE(t.add("x", v));
  ASSERT_TRUE(t.find("x"));
  EXPECT_EQ(t.value(*t.find("x"), 0), "1");
}

// 10,000 rows of three values cost their text plus at most 4 (3 + 1) + 11 = 27 bytes each.
TEST(LookupTable, TenThousandRowsStayWithinTheStatedBytesPerRow) {
  constexpr std::size_t rows = 10'000, fields = 3;
  LookupTable t(fields);
  std::size_t text = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const std::string key = "SKU-" + std::to_string(1'000'000 + i);
    const std::string qty = std::to_string(i % 500), price = std::to_string(i % 97) + ".99";
    const std::string title = "Titel " + std::to_string(i);
    const std::array<std::string_view, fields> values{qty, price, title};
    ASSERT_TRUE(t.add(key, values));
    text += key.size() + qty.size() + price.size() + title.size();
  }
  t.compact();
  EXPECT_EQ(t.rows(), rows);
  EXPECT_EQ(LookupTable::overhead_per_row(fields), 27u);
  EXPECT_GE(t.memory_bytes(), text);
  EXPECT_LE(t.memory_bytes(), text + rows * LookupTable::overhead_per_row(fields) + sizeof(LookupTable) + 16);
  // Compacting rebuilt the index: every key is still found, with its own values.
  for (std::size_t i = 0; i < rows; i += 997) {
    auto row = t.find("SKU-" + std::to_string(1'000'000 + i));
    ASSERT_TRUE(row) << i;
    EXPECT_EQ(t.value(*row, 2), "Titel " + std::to_string(i));
  }
  EXPECT_FALSE(t.find("SKU-" + std::to_string(1'000'000 + rows)));
}

}  // namespace
}  // namespace sluice
