// Parts and jobs of pg_sink.
#include "nodes/sink/pg_job.hpp"

#include <algorithm>

namespace sluice {

RowRefs Part::all() const {
  RowRefs out = unknown;
  out.insert(out.end(), fresh.begin(), fresh.end());
  out.insert(out.end(), changed.begin(), changed.end());
  return out;
}

void Part::forget() {
  unknown = all();
  fresh.clear();
  changed.clear();
}

std::pair<Part, Part> Part::halves() const {
  Part a, b;
  auto split = [](const RowRefs& from, RowRefs& x, RowRefs& y) {
    auto mid = from.begin() + static_cast<std::ptrdiff_t>(from.size() / 2);
    x.assign(from.begin(), mid);
    y.assign(mid, from.end());
  };
  // Each kind halved on its own: a bad row is alone after as many halvings as with one list.
  split(unknown, a.unknown, b.unknown);
  split(fresh, a.fresh, b.fresh);
  split(changed, a.changed, b.changed);
  if (a.empty()) std::swap(a, b);
  if (b.empty() && a.size() > 1) {  // one kind with one row, the rest in another: move one over
    if (!a.unknown.empty() && a.size() > a.unknown.size()) {
      b.unknown.swap(a.unknown);
    } else if (!a.fresh.empty() && a.size() > a.fresh.size()) {
      b.fresh.swap(a.fresh);
    } else {
      b.changed.swap(a.changed);
    }
  }
  return {std::move(a), std::move(b)};
}

void Job::reset() {
  rows.clear();
  lines.clear();
  raw.clear();
  header.reset();
  parts.clear();
  unchanged = 0;
  seen.clear();
  mark = {};
  own_rejects = 0;
  refused = 0;
  counts = {};
  rejects.clear();
  error = nullptr;
}

}  // namespace sluice
