// Passwords never reach messages: connection strings and libpq errors are redacted.
#include <gtest/gtest.h>

#include "clients/pg.hpp"

namespace sluice {
namespace {

TEST(Redact, KeyValueConnectionStrings) {
  EXPECT_EQ(redact_conninfo("host=db password=s3cret dbname=x"), "host=db password=*** dbname=x");
  EXPECT_EQ(redact_conninfo("host=db PASSWORD = 'a b\\' c' user=u"), "host=db PASSWORD = *** user=u");
  EXPECT_EQ(redact_conninfo("host=db dbname=x"), "host=db dbname=x");
}

TEST(Redact, Uris) {
  EXPECT_EQ(redact_conninfo("postgresql://bob:hunter2@db.example/app"), "postgresql://bob:***@db.example/app");
  EXPECT_EQ(redact_conninfo("postgres://bob@db/app?password=x&sslmode=require"),
            "postgres://bob@db/app?password=***&sslmode=require");
}

TEST(Redact, ErrorsLoseTheSecretEvenWhenQuotedByTheServer) {
  std::string conninfo = "host=db password=hunter2";
  EXPECT_EQ(redact_error("FATAL: password \"hunter2\" rejected", conninfo), "FATAL: password \"***\" rejected");
}

TEST(Redact, AMessageQuotingARedactedStringKeepsWhatFollowsIt) {
  std::string conninfo = "host=db password=hunter2";
  EXPECT_EQ(redact_error("cannot connect to PostgreSQL (host=db password=***): timeout expired", conninfo),
            "cannot connect to PostgreSQL (host=db password=***): timeout expired");
}

TEST(ServerMessage, DropsLibpqsPrefixAndTheLinesAfterTheFirst) {
  EXPECT_EQ(server_message("ERROR:  relation \"nope\" does not exist\nLINE 1: SELECT\n"),
            "relation \"nope\" does not exist");
  EXPECT_EQ(server_message("plain"), "plain");
}

}  // namespace
}  // namespace sluice
