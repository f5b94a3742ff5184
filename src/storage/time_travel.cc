#include "storage/time_travel.h"

#include <set>

#include "storage/publish.h"

namespace sluice {

using duck::Ident;
using duck::Literal;

Result<TimeTravel> ResolveTimeTravel(duck::Connection& conn, const std::string& as_of) {
  TimeTravel out;
  ASSIGN_OR_RETURN(out.as_of, ParseAsOf(conn, as_of));
  ASSIGN_OR_RETURN(std::vector<SnapshotRecord> records, SnapshotsAsOf(conn, out.as_of));
  if (records.empty()) {
    return Status::NotFound("as of '" + as_of + "': no table had a snapshot yet then");
  }
  for (SnapshotRecord& r : records) {
    if (r.live()) {
      out.tables.push_back(std::move(r));
    } else {
      out.unavailable.emplace_back(r.layer + "." + r.table,
                                   "snapshot " + std::to_string(r.snapshot) + " of " + r.layer + "." +
                                       r.table +
                                       " has expired (retention.snapshots); `sluice status` shows the "
                                       "time-travel range");
    }
  }
  return out;
}

Status AttachTimeTravel(duck::Connection& conn, const ProjectSpec& spec, const TimeTravel& travel,
                        const std::string& name, bool search_path) {
  const std::string db = Ident(name);
  RETURN_IF_ERROR(conn.Execute("ATTACH ':memory:' AS " + db + "; CREATE SCHEMA " + db +
                               ".curated; CREATE SCHEMA " + db + ".marts"));
  for (const SnapshotRecord& r : travel.tables) {
    const TableSpec* table = spec.FindTable(r.table);
    if (table == nullptr) continue;  // no longer in sluice.yaml
    PublishTarget target = PublishTargetFor(spec, *table);
    // Columns publishing added (a curated table's day and tenant) are not the table's.
    std::string exclude;
    for (const auto& [key, expr] :
         {std::pair{target.day_key, target.day_expr}, {target.tenant_key, target.tenant_expr}}) {
      if (!key.empty() && key != expr) exclude += (exclude.empty() ? "" : ", ") + Ident(key);
    }
    const std::string star = exclude.empty() ? "*" : "* EXCLUDE (" + exclude + ")";
    const std::string dir = spec.lake + "/" + r.path;
    const std::string view = db + "." + r.layer + "." + Ident(r.table);
    std::string select;
    if (r.rows > 0) {
      select = "SELECT " + star + " FROM read_parquet(" + Literal(dir + "/**/*.parquet") +
               ", hive_partitioning = false, union_by_name = true)";
    } else {  // an empty version holds no file to read the columns from: the table's own, no rows
      select = "SELECT * FROM lake." + r.layer + "." + Ident(r.table) + " WHERE false";
    }
    RETURN_IF_ERROR(conn.Execute("CREATE VIEW " + view + " AS " + select)
                        .WithContext("reading snapshot " + std::to_string(r.snapshot) + " of " + r.layer +
                                     "." + r.table + " (" + dir + ")"));
  }
  if (!search_path) return Status::OK();
  // The lake stays the default database (first entry); a two-part name with schema curated or
  // marts finds only the snapshot's schemas on the path, meta and dlq only the lake's.
  return conn.Execute("SET search_path = " +
                      Literal("lake.main," + name + ".curated," + name + ".marts,lake.meta,lake.dlq"));
}

Status DetachTimeTravel(duck::Connection& conn, const std::string& name) {
  return conn.Execute("USE lake; DETACH " + Ident(name));  // USE sets the search path back
}

Status CheckTimeTravelReads(const TimeTravel& travel, const std::vector<std::string>& tables) {
  std::set<std::string> present;
  for (const SnapshotRecord& r : travel.tables) present.insert(r.layer + "." + r.table);
  for (const std::string& t : tables) {
    if (t.rfind("curated.", 0) != 0 && t.rfind("marts.", 0) != 0) continue;
    for (const auto& [name, why] : travel.unavailable) {
      if (name == t) return Status::NotFound(why);
    }
    if (present.count(t) == 0) {
      return Status::NotFound(t + " has no snapshot as of '" + travel.as_of.text + "'");
    }
  }
  return Status::OK();
}

}  // namespace sluice
