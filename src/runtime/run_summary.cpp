// The end-of-run summary, with the accounting identity.
#include "runtime/run_summary.hpp"

#include <cstdio>

#include "runtime/check_summary.hpp"
#include "runtime/log.hpp"

namespace sluice {

std::string format_summary(const RunOutcome& o, const Pipeline& pipeline) {
  const FlowResult& f = o.flow;
  char buf[512];
  std::string out;
  auto line = [&](const char* fmt, auto... args) {
    std::snprintf(buf, sizeof buf, fmt, args...);
    out += buf;
  };
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  if (pipeline.supplier.defaulted)
    line("sluice run: %s (no supplier file)\n", pipeline.supplier.name.c_str());
  else if (o.shard.active())
    line("sluice run: supplier %s, shard %s of group %s\n", pipeline.supplier.name.c_str(), o.shard.text().c_str(),
         o.group.empty() ? "-" : o.group.c_str());
  else
    line("sluice run: supplier %s\n", pipeline.supplier.name.c_str());
  line("  %-14s %12llu\n", "read", u(f.read));
  if (f.sink.written || !(f.sink.inserted || f.sink.updated || f.sink.unchanged))
    line("  %-14s %12llu\n", "written", u(f.sink.written));
  if (f.sink.inserted || f.sink.updated || f.sink.unchanged) {
    line("  %-14s %12llu\n", "inserted", u(f.sink.inserted));
    line("  %-14s %12llu\n", "updated", u(f.sink.updated));
    line("  %-14s %12llu\n", "unchanged", u(f.sink.unchanged));
  }
  std::string codes;
  for (const auto& [code, n] : o.rejects_by_code) codes += (codes.empty() ? "" : ", ") + code + " " + std::to_string(n);
  line("  %-14s %12llu%s%s%s\n", "rejected", u(f.rejected), codes.empty() ? "" : "  (", codes.c_str(),
       codes.empty() ? "" : ")");
  if (f.skipped)
    line("  %-14s %12llu  (%s)\n", "skipped", u(f.skipped),
         f.checks ? "repeated URLs: each is checked once" : "not products: image-only or parent rows");
  if (f.other_shard)
    line("  %-14s %12llu  (kept by the other workers of shard group %s)\n", "other shards", u(f.other_shard),
         o.group.c_str());
  if (f.filtered) {
    std::string why;
    for (const auto& n : f.nodes)
      if (n.filtered) why += (why.empty() ? "" : "; ") + n.id + ": " + (n.condition.empty() ? "?" : n.condition);
    line("  %-14s %12llu  (dropped on purpose by %s)\n", "filtered", u(f.filtered), why.c_str());
  }
  if (f.copies) line("  %-14s %12llu  (extra records a fan-out made, one per extra branch)\n", "copies", u(f.copies));
  line("  %-14s %12llu\n", "not processed", u(f.not_processed));
  if (f.side_rejected) {
    std::string side;
    for (const auto& [code, n] : f.side_rejects_by_code) side += ", " + code + " " + std::to_string(n);
    line("  %-14s %12llu  (rows of a supplemental feed, in the rejects output but not rows of this feed%s)\n",
         "side rejected", u(f.side_rejected), side.c_str());
  }
  if (f.sync.full) {
    const std::string listed = std::to_string(f.sync.listed);
    std::string detail =
        f.sync.refused   ? "  (REFUSED: of " + listed + " listed; none were)"
        : f.sync.pending ? "  (its group delists once all its shards complete: " +
                               std::to_string(f.sync.shards_ready) + " of " + std::to_string(o.shard.count) + " have)"
        : f.sync.applied ? (o.shard.active() ? "  (for the whole group, of " + listed + " listed, not in its feed)"
                                             : "  (of " + listed + " listed, not in this feed)")
        : o.shard.active() ? std::string("  (by this worker: its run did not complete, or the group had delisted)")
                           : std::string("  (the run did not complete: nothing was delisted)");
    line("  %-14s %12llu%s\n", "delisted", u(f.sync.delisted), detail.c_str());
    line("  %-14s %12llu  (delisted before, in this feed again)\n", "relisted", u(f.sink.relisted));
  }
  std::string parts;
  if (f.sink.written) parts += "written " + std::to_string(f.sink.written) + " + ";
  if (f.sink.inserted || f.sink.updated || f.sink.unchanged)
    parts += "inserted " + std::to_string(f.sink.inserted) + " + updated " + std::to_string(f.sink.updated) +
             " + unchanged " + std::to_string(f.sink.unchanged) + " + ";
  if (parts.empty()) parts = "written 0 + ";
  parts += "rejected " + std::to_string(f.rejected) + " + ";
  if (f.filtered) parts += "filtered " + std::to_string(f.filtered) + " + ";
  if (f.skipped) parts += "skipped " + std::to_string(f.skipped) + " + ";
  if (f.other_shard) parts += "other shards " + std::to_string(f.other_shard) + " + ";
  const std::string copies = f.copies ? " + copies " + std::to_string(f.copies) : "";
  line("  identity: read %llu%s %s %snot processed %llu: %s\n", u(f.read), copies.c_str(),
       f.identity_holds() ? "=" : "!=", parts.c_str(), u(f.not_processed), f.identity_holds() ? "holds" : "VIOLATED");
  if (f.sinks.size() > 1)
    for (const auto& s : f.sinks) {
      std::string w = s.counts.written ? "written " + std::to_string(s.counts.written)
                                       : "inserted " + std::to_string(s.counts.inserted) + " + updated " +
                                             std::to_string(s.counts.updated) + " + unchanged " +
                                             std::to_string(s.counts.unchanged);
      line("  sink %s: in %llu %s %s + rejected %llu + not processed %llu: %s\n", s.id.c_str(), u(s.in),
           s.identity_holds() ? "=" : "!=", w.c_str(), u(s.rejected), u(s.not_processed),
           s.identity_holds() ? "holds" : "VIOLATED");
    }
  line("  %-14s %-12s %12s %12s %10s %10s %9s\n", "node", "type", "in", "out", "rejected", "filtered", "busy s");
  for (const auto& n : f.nodes) {
    line("  %-14s %-12s %12llu %12llu %10llu %10llu %9.3f\n", n.id.c_str(), n.type.c_str(), u(n.in), u(n.out),
         u(n.rejected), u(n.filtered), n.busy_seconds);
    if (n.ports.size() > 1)
      for (const auto& [port, count] : n.ports) line("  %-14s   .%-23s %12llu\n", "", port.c_str(), u(count));
    if (n.not_processed) line("  %-14s   not processed %24llu\n", "", u(n.not_processed));
  }
  out += format_checks(f);
  double secs = f.wall.count();
  double rate = secs > 0 ? static_cast<double>(f.read) / secs : 0;
  double mbs = secs > 0 ? static_cast<double>(f.bytes_read) / 1e6 / secs : 0;
  line("  %.3f s, %.0f rows/s, %.1f MB/s, %d threads\n", secs, rate, mbs, f.threads);
  if (f.rejected > 0) line("  rejects: %s\n", o.rejects_path.c_str());
  if (o.run_id)
    line("  run id: %lld (sluice runs show %lld)\n", static_cast<long long>(o.run_id),
         static_cast<long long>(o.run_id));
  if (!o.error.empty()) line("  error: %s\n", o.error.c_str());
  return out;
}

}  // namespace sluice

namespace sluice {

void log_summary(const RunOutcome& o, const Pipeline& pipeline) {
  const FlowResult& f = o.flow;
  auto n = [](std::uint64_t v) { return LogField{"", std::to_string(v), true}; };
  auto field = [&](const char* k, std::uint64_t v) {
    LogField x = n(v);
    x.key = k;
    return x;
  };
  std::vector<LogField> fields{{"supplier", pipeline.supplier.name},
                               {"exit_code", std::to_string(to_int(o.code)), true},
                               field("read", f.read),
                               field("written", f.sink.written),
                               field("inserted", f.sink.inserted),
                               field("updated", f.sink.updated),
                               field("unchanged", f.sink.unchanged),
                               field("rejected", f.rejected),
                               field("skipped", f.skipped),
                               field("other_shard", f.other_shard),
                               field("not_processed", f.not_processed),
                               field("filtered", f.filtered),
                               field("copies", f.copies),
                               field("delisted", f.sync.delisted_now()),
                               field("relisted", f.sink.relisted),
                               {"identity_holds", f.identity_holds() ? "true" : "false", true},
                               {"wall_seconds", std::to_string(f.wall.count()), true}};
  if (o.run_id) fields.push_back({"run_id", std::to_string(o.run_id), true});
  if (!o.error.empty()) fields.push_back({"error", o.error});
  log_info("run finished", fields);
}

}  // namespace sluice
