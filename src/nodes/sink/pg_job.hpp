// A batch on its way through pg_sink: its encoded rows, split by session and by what the snapshot
// says of them, and what writing them gave.
#pragma once

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nodes/node.hpp"
#include "nodes/sink/pg_rows.hpp"
#include "nodes/sink/pg_writer.hpp"

namespace sluice {

// Rows of one batch for one session.
struct Part {
  RowRefs fresh, changed, unknown;  // new, there with another hash, not known
  bool empty() const { return fresh.empty() && changed.empty() && unknown.empty(); }
  std::size_t size() const { return fresh.size() + changed.size() + unknown.size(); }
  RowRefs all() const;
  // Every row as unknown: what a retry does when a guess proved wrong or a commit's fate is unknown.
  void forget();
  // Two halves, each row keeping its kind.
  std::pair<Part, Part> halves() const;
};

struct Job {
  EncodedRows rows;
  // The batch's lines and raw fields, for the rejects the database may find; the values are freed
  // with the batch.
  std::vector<std::uint64_t> lines;
  std::vector<std::vector<std::string>> raw;
  std::shared_ptr<const std::vector<std::string>> header;
  std::vector<Part> parts;      // by session
  std::uint64_t unchanged = 0;  // rows the snapshot found unchanged: no statement
  RowRefs seen;                 // a full sync: every row that reached the database, whatever became of it
  BudgetMark mark;
  std::size_t own_rejects = 0;  // found before the database
  std::atomic<std::size_t> refused{0};
  // Results, read after the job's thread ended.
  WriteCounts counts;
  std::vector<Reject> rejects;  // refused by the database
  std::exception_ptr error;

  void reset();
};

}  // namespace sluice
