#include "warehouse/pg_publisher.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

#include "catalog/tables.h"
#include "catalog/warehouse_changes.h"
#include "common/failpoint.h"
#include "warehouse/pg_connection.h"

namespace sluice {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kNull = "\\N";
constexpr int64_t kCsvFileBytes = 16 << 20;  // DuckDB rotates its CSV files at this size
constexpr double kBackoffFirstSeconds = 0.5;
constexpr double kBackoffMaxSeconds = 30;

bool StartsWith(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

bool IsNested(const std::string& t) {
  return (t.size() > 1 && t.back() == ']') || StartsWith(t, "STRUCT") || StartsWith(t, "MAP") ||
         StartsWith(t, "UNION") || t == "JSON";
}

// The DuckDB expression that renders column `c` of type `type` as PostgreSQL reads it in CSV.
std::string CsvExpr(const std::string& c, const std::string& type) {
  std::string col = duck::Ident(c);
  if (IsNested(type)) return "CAST(to_json(" + col + ") AS VARCHAR)";
  if (type == "TIMESTAMP WITH TIME ZONE") return "CAST(timezone('UTC', " + col + ") AS VARCHAR) || '+00'";
  if (type == "BLOB") return "'\\x' || hex(" + col + ")";
  return col;
}

bool Quoted(const std::string& pg_type) { return pg_type == "text" || pg_type == "jsonb"; }

// Records `batches` as brought by version `version` of table `name_lit` (a literal) in publish
// `seq`, in the caller's transaction; a batch already recorded keeps the version that first
// brought it. published_at is the time just before COMMIT (clock_timestamp, not the
// transaction's start).
Status RecordBatches(PgConnection& pg, const std::string& schema, const std::string& name_lit,
                     int64_t version, const std::string& seq, const std::vector<WarehouseBatch>& batches) {
  constexpr size_t kPerStatement = 1000;
  for (size_t first = 0; first < batches.size(); first += kPerStatement) {
    std::string values;
    for (size_t i = first; i < std::min(batches.size(), first + kPerStatement); ++i) {
      const WarehouseBatch& b = batches[i];
      values += (values.empty() ? "(" : ", (") + pg.Literal(b.source) + ", " + pg.Literal(b.batch_id) + ", " +
                pg.Literal(b.correlation_id) + ", " + pg.Literal(b.committed_at) + ")";
    }
    RETURN_IF_ERROR(
        pg.Exec("INSERT INTO " + schema + "._sluice_publish_batches SELECT " + name_lit + ", " +
                std::to_string(version) + ", " + seq +
                ", v.source, v.batch_id, nullif(v.correlation_id, ''), CAST(nullif(v.committed_at, "
                "'') AS timestamp) AT TIME ZONE 'UTC', clock_timestamp() FROM (VALUES " +
                values +
                ") v(source, batch_id, correlation_id, committed_at) ON CONFLICT (table_name, "
                "source, batch_id) DO NOTHING"));
  }
  return Status::OK();
}

}  // namespace

std::string PgTypeFor(const std::string& t) {
  if (IsNested(t)) return "jsonb";
  if (StartsWith(t, "DECIMAL")) return "numeric" + t.substr(7);  // DECIMAL(12,2) -> numeric(12,2)
  static const std::map<std::string, std::string> kTypes = {
      {"VARCHAR", "text"},
      {"BIGINT", "bigint"},
      {"INTEGER", "integer"},
      {"SMALLINT", "smallint"},
      {"TINYINT", "smallint"},
      {"UTINYINT", "smallint"},
      {"USMALLINT", "integer"},
      {"UINTEGER", "bigint"},
      {"UBIGINT", "numeric(20,0)"},
      {"HUGEINT", "numeric(38,0)"},
      {"DOUBLE", "double precision"},
      {"FLOAT", "real"},
      {"BOOLEAN", "boolean"},
      {"DATE", "date"},
      {"TIME", "time"},
      {"TIMESTAMP", "timestamp"},
      {"TIMESTAMP WITH TIME ZONE", "timestamptz"},
      {"UUID", "uuid"},
      {"BLOB", "bytea"},
      {"INTERVAL", "interval"},
  };
  auto it = kTypes.find(t);
  return it == kTypes.end() ? "text" : it->second;
}

Result<std::unique_ptr<PgPublisher>> PgPublisher::Create(const ProjectSpec& spec, duck::Connection& lake,
                                                         Env* env, Hooks hooks) {
  if (!spec.serve.postgres) return Status::InvalidArgument("serve.postgres is not set in sluice.yaml");
  const std::string& var = spec.serve.postgres->dsn_env;
  const char* dsn = std::getenv(var.c_str());
  if (dsn == nullptr || *dsn == '\0') {
    return Status::InvalidArgument(spec.spec_path + ": serve.postgres.dsn_env: the environment variable " +
                                   var + " is not set; it must hold the PostgreSQL connection string");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<duck::Connection> conn, lake.Connect());
  RETURN_IF_ERROR(conn->Execute("USE lake"));
  auto p = std::unique_ptr<PgPublisher>(new PgPublisher(spec, std::move(conn), env, std::move(hooks), dsn));
  RETURN_IF_ERROR(env->RemoveAll(p->scratch_dir_));
  return p;
}

PgPublisher::PgPublisher(const ProjectSpec& spec, std::unique_ptr<duck::Connection> conn, Env* env,
                         Hooks hooks, std::string dsn)
    : spec_(spec),
      pg_(*spec.serve.postgres),
      conn_(std::move(conn)),
      env_(env),
      hooks_(std::move(hooks)),
      dsn_(std::move(dsn)),
      scratch_dir_(spec.lake + "/_warehouse_tmp") {
  for (const std::string& name : pg_.publish) {
    for (const TableSpec& t : spec.tables) {
      const std::string qualified = (t.kind == TableKind::kMart ? "marts." : "curated.") + t.name;
      if (qualified == name) {
        tables_.push_back({qualified, PublishTargetFor(spec, t), WarehouseUpstream(spec, t.name)});
      }
    }
  }
}

PgPublisher::~PgPublisher() { Stop(); }

void PgPublisher::Log(const std::string& line) const {
  if (hooks_.log) hooks_.log("warehouse: " + RedactDsn(line, dsn_, "$" + pg_.dsn_env));
}

Status PgPublisher::EnsureConnected() {
  if (pg_conn_ && pg_conn_->healthy()) return Status::OK();
  pg_conn_.reset();
  schema_ready_ = false;
  ASSIGN_OR_RETURN(pg_conn_, PgConnection::Connect(dsn_, "$" + pg_.dsn_env));
  const std::string schema = pg_conn_->Ident(pg_.schema);
  std::string sql =
      "CREATE SCHEMA IF NOT EXISTS " + schema + "; CREATE TABLE IF NOT EXISTS " + schema +
      "._sluice_publish (table_name text PRIMARY KEY, version bigint NOT NULL, rows_copied bigint NOT "
      "NULL, published_at timestamptz NOT NULL, publish_seq bigint); ALTER TABLE " +
      schema +
      "._sluice_publish ADD COLUMN IF NOT EXISTS publish_seq bigint; CREATE SEQUENCE IF NOT EXISTS " +
      schema + "._sluice_publish_seq; CREATE TABLE IF NOT EXISTS " + schema +
      "._sluice_publish_batches (table_name text NOT NULL, version bigint NOT NULL, publish_seq bigint NOT "
      "NULL, source text NOT NULL, batch_id text NOT NULL, correlation_id text, lake_committed_at "
      "timestamptz, published_at timestamptz NOT NULL, PRIMARY KEY (table_name, source, batch_id)); CREATE "
      "INDEX IF NOT EXISTS _sluice_publish_batches_correlation ON " +
      schema + "._sluice_publish_batches (correlation_id)";
  if (pg_.row_security) {
    // Which tenant each BI role may read (docs/WAREHOUSE.md); a role sees only its own rows here.
    sql += "; CREATE TABLE IF NOT EXISTS " + schema +
           "._sluice_tenant_roles (role_name name NOT NULL, tenant text NOT NULL, PRIMARY KEY (role_name, "
           "tenant)); ALTER TABLE " +
           schema + "._sluice_tenant_roles ENABLE ROW LEVEL SECURITY; DROP POLICY IF EXISTS own_rows ON " +
           schema + "._sluice_tenant_roles; CREATE POLICY own_rows ON " + schema +
           "._sluice_tenant_roles FOR SELECT USING (role_name = current_user)";
  }
  Status st = pg_conn_->Exec(sql);
  if (!st.ok()) {
    pg_conn_.reset();
    return st;
  }
  schema_ready_ = true;
  return Status::OK();
}

Status PgPublisher::PublishAll() {
  int64_t notify_gen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    notify_gen = notify_gen_;
  }
  // The lake's versions first, so that the lag is known even when PostgreSQL is not.
  Status st;
  {
    Result<std::vector<TableState>> versions = ListTables(*conn_);
    if (versions.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      for (Table& t : tables_) {
        for (const TableState& state : *versions) {
          if (state.name == t.target.table) t.lake_version = state.version;
        }
      }
    } else {
      st = versions.status();
    }
  }
  if (st.ok()) st = EnsureConnected();
  if (st.ok()) {
    for (Table& t : tables_) {
      st = PublishOne(t);
      if (!st.ok()) break;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (!st.ok()) {
    pg_conn_.reset();  // whatever state it was in: the next pass reconnects
    ++failures_;
    ++consecutive_failures_;
    const std::string error = RedactDsn(st.ToString(), dsn_, "$" + pg_.dsn_env);
    if (error != last_error_) Log("publishing failed (ingest goes on; retrying with backoff): " + error);
    last_error_ = error;
    return Status(st.code(), error);
  }
  if (consecutive_failures_ > 0) Log("publishing works again");
  consecutive_failures_ = 0;
  last_error_.clear();
  bool caught_up = notify_gen == notify_gen_;
  for (const Table& t : tables_) caught_up = caught_up && t.published >= t.lake_version;
  if (caught_up) behind_since_us_ = 0;
  return Status::OK();
}

Status PgPublisher::PublishOne(Table& t) {
  PgConnection& pg = *pg_conn_;
  const std::string schema = pg.Ident(pg_.schema);
  const std::string table = schema + "." + pg.Ident(t.target.table);
  const std::string name_lit = pg.Literal(t.qualified);
  ASSIGN_OR_RETURN(auto held, pg.Query("SELECT version FROM " + schema +
                                       "._sluice_publish WHERE table_name = " + name_lit));
  const int64_t from = held.empty() ? 0 : std::strtoll(held[0][0]->c_str(), nullptr, 10);
  {
    std::lock_guard<std::mutex> lock(mu_);
    t.published = from;
  }
  if (t.lake_version <= from && from > 0) return Status::OK();

  // 1. One read snapshot of the lake: the version, its changes, and their rows as CSV files.
  RETURN_IF_ERROR(conn_->Execute("BEGIN TRANSACTION"));
  struct Rollback {
    duck::Connection* c;
    bool done = false;
    ~Rollback() {
      if (!done) (void)c->Execute("ROLLBACK");
    }
  } guard{conn_.get()};
  ASSIGN_OR_RETURN(WarehouseDelta delta, ReadWarehouseDelta(*conn_, t.target.table, from, t.upstream));
  if (delta.version <= from) {
    guard.done = true;
    return conn_->Execute("COMMIT");
  }
  const PublishTarget& target = t.target;
  std::string base = "SELECT *";
  if (!target.day_key.empty() && target.day_key != target.day_expr) {
    base += ", " + target.day_expr + " AS " + duck::Ident(target.day_key);
  }
  if (!target.tenant_key.empty() && target.tenant_key != target.tenant_expr) {
    base += ", " + target.tenant_expr + " AS " + duck::Ident(target.tenant_key);
  }
  base += " FROM " + target.layer + "." + duck::Ident(target.table);
  ASSIGN_OR_RETURN(duck::Rows described, conn_->Query("DESCRIBE " + base));
  std::vector<std::string> columns, pg_types;
  std::string select, quote;
  for (size_t r = 0; r < described.rows.size(); ++r) {
    columns.push_back(described.At(r, 0));
    pg_types.push_back(PgTypeFor(described.At(r, 1)));
    select += (select.empty() ? "SELECT " : ", ") + CsvExpr(columns.back(), described.At(r, 1));
    if (Quoted(pg_types.back())) quote += (quote.empty() ? "" : ", ") + duck::Ident(columns.back());
  }
  select += " FROM (" + base + ") p";
  if (!delta.full) {
    std::string on;
    for (const std::string& key : {target.day_key, target.tenant_key}) {
      if (key.empty()) continue;
      const std::string c = key == target.day_key ? "day" : "tenant";
      on +=
          (on.empty() ? "" : " AND ") + std::string("p.") + duck::Ident(key) + " IS NOT DISTINCT FROM c." + c;
    }
    select += " SEMI JOIN " + PartitionsRelation(delta.partitions) + " c ON " + (on.empty() ? "true" : on);
  }
  const std::string dir = scratch_dir_ + "/" + target.table;
  RETURN_IF_ERROR(env_->RemoveAll(dir));
  RETURN_IF_ERROR(env_->CreateDirs(scratch_dir_));
  RETURN_IF_ERROR(conn_
                      ->Execute("COPY (" + select + ") TO " + duck::Literal(dir) +
                                " (FORMAT csv, HEADER false, NULLSTR " + duck::Literal(kNull) +
                                (quote.empty() ? "" : ", FORCE_QUOTE (" + quote + ")") +
                                ", FILE_SIZE_BYTES " + std::to_string(kCsvFileBytes) + ")")
                      .WithContext("writing " + t.qualified + " for PostgreSQL"));
  guard.done = true;
  RETURN_IF_ERROR(conn_->Execute("COMMIT"));
  struct RemoveDir {
    Env* env;
    std::string dir;
    ~RemoveDir() { (void)env->RemoveAll(dir); }
  } remove{env_, dir};

  // 2. One PostgreSQL transaction: table shape, delete, copy, version.
  RETURN_IF_ERROR(pg.Exec("BEGIN"));
  ASSIGN_OR_RETURN(auto again, pg.Query("SELECT version FROM " + schema +
                                        "._sluice_publish WHERE table_name = " + name_lit + " FOR UPDATE"));
  if ((again.empty() ? 0 : std::strtoll(again[0][0]->c_str(), nullptr, 10)) != from) {
    return Status::Aborted("postgres: " + t.qualified + " was published by someone else meanwhile");
  }
  std::string defs;
  for (size_t i = 0; i < columns.size(); ++i) {
    defs += (defs.empty() ? "" : ", ") + pg.Ident(columns[i]) + " " + pg_types[i];
  }
  RETURN_IF_ERROR(pg.Exec("CREATE TABLE IF NOT EXISTS " + table + " (" + defs + ")"));
  ASSIGN_OR_RETURN(auto existing,
                   pg.Query("SELECT column_name FROM information_schema.columns WHERE "
                            "table_schema = " +
                            pg.Literal(pg_.schema) + " AND table_name = " + pg.Literal(target.table)));
  std::map<std::string, bool> have;
  for (const auto& row : existing) have[*row[0]] = true;
  std::string alter;
  for (size_t i = 0; i < columns.size(); ++i) {  // schema evolution: additive only (G7)
    if (!have.count(columns[i])) {
      alter += "ALTER TABLE " + table + " ADD COLUMN " + pg.Ident(columns[i]) + " " + pg_types[i] + ";";
    }
  }
  if (!alter.empty()) RETURN_IF_ERROR(pg.Exec(alter));
  std::vector<std::string> keys;
  for (const std::string& key : {target.day_key, target.tenant_key}) {
    if (!key.empty()) keys.push_back(key);
  }
  if (!keys.empty()) {
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + pg.Ident(k);
    RETURN_IF_ERROR(pg.Exec("CREATE INDEX IF NOT EXISTS " + pg.Ident(target.table + "_sluice_partition") +
                            " ON " + table + " (" + list + ")"));
  }
  if (pg_.row_security) {
    // Rows of a tenant for the roles mapped to it in _sluice_tenant_roles; everything for the
    // role that publishes (FORCE applies the policies to the table's owner too).
    std::string tenant_rule = "false";
    if (!target.tenant_key.empty()) {
      tenant_rule = pg.Ident(target.tenant_key) + " IN (SELECT tenant FROM " + schema +
                    "._sluice_tenant_roles WHERE role_name = current_user)";
    }
    RETURN_IF_ERROR(pg.Exec("ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY; ALTER TABLE " + table +
                            " FORCE ROW LEVEL SECURITY; DROP POLICY IF EXISTS sluice_tenant ON " + table +
                            "; CREATE POLICY sluice_tenant ON " + table + " FOR SELECT USING (" +
                            tenant_rule + "); DROP POLICY IF EXISTS sluice_publisher ON " + table +
                            "; CREATE POLICY sluice_publisher ON " + table +
                            " TO CURRENT_USER USING (true) WITH CHECK (true)"));
  }
  // Delete what the new rows replace.
  std::map<std::string, std::string> key_type;
  for (size_t i = 0; i < columns.size(); ++i) key_type[columns[i]] = pg_types[i];
  if (delta.full) {
    RETURN_IF_ERROR(pg.Exec("DELETE FROM " + table));
  } else if (!delta.partitions.empty()) {
    std::string values, nulls;
    for (const Partition& p : delta.partitions) {
      const bool day_null = !target.day_key.empty() && !p.day;
      const bool tenant_null = !target.tenant_key.empty() && !p.tenant;
      if (day_null || tenant_null) {
        std::string cond;
        for (const auto& [key, value] :
             {std::pair{target.day_key, p.day}, std::pair{target.tenant_key, p.tenant}}) {
          if (key.empty()) continue;
          cond += (cond.empty() ? "" : " AND ") + pg.Ident(key) +
                  (value ? " = CAST(" + pg.Literal(*value) + " AS " + key_type[key] + ")" : " IS NULL");
        }
        nulls += (nulls.empty() ? "" : " OR ") + ("(" + cond + ")");
        continue;
      }
      std::string row;
      for (const auto& [key, value] :
           {std::pair{target.day_key, p.day}, std::pair{target.tenant_key, p.tenant}}) {
        if (key.empty()) continue;
        row += (row.empty() ? "" : ", ") + ("CAST(" + pg.Literal(*value) + " AS " + key_type[key] + ")");
      }
      values += (values.empty() ? "(" : ", (") + row + ")";
    }
    if (!values.empty()) {
      std::string names, match;
      for (size_t i = 0; i < keys.size(); ++i) {
        names += (i ? ", k" : "k") + std::to_string(i);
        match += (i ? " AND t." : "t.") + pg.Ident(keys[i]) + " = v.k" + std::to_string(i);
      }
      RETURN_IF_ERROR(pg.Exec("DELETE FROM " + table + " t USING (VALUES " + values + ") v(" + names +
                              ") WHERE " + match));
    }
    if (!nulls.empty()) RETURN_IF_ERROR(pg.Exec("DELETE FROM " + table + " WHERE " + nulls));
  }
  // Copy the rows, file by file of what DuckDB wrote.
  std::vector<std::string> files;
  if (env_->Exists(dir)) {
    ASSIGN_OR_RETURN(files, env_->ListFilesRecursive(dir));
  }
  std::string collist;
  for (const auto& c : columns) collist += (collist.empty() ? "" : ", ") + pg.Ident(c);
  size_t next_file = 0;
  std::string buffer;
  ASSIGN_OR_RETURN(const int64_t rows,
                   pg.CopyIn("COPY " + table + " (" + collist + ") FROM STDIN (FORMAT csv, NULL " +
                                 pg.Literal(kNull) + ")",
                             [&]() -> Result<std::string_view> {
                               if (next_file > 0) SLUICE_FAILPOINT("warehouse.during_copy");
                               if (next_file == files.size()) return std::string_view();
                               ASSIGN_OR_RETURN(buffer, env_->ReadFile(files[next_file++]));
                               return std::string_view(buffer);
                             }));
  // The version, its place in the order of publishes, and the batches it brought.
  ASSIGN_OR_RETURN(auto seq_row,
                   pg.Query("SELECT nextval(" + pg.Literal(schema + "._sluice_publish_seq") + "::regclass)"));
  const std::string seq = *seq_row.at(0).at(0);
  RETURN_IF_ERROR(RecordBatches(pg, schema, name_lit, delta.version, seq, delta.batches));
  SLUICE_FAILPOINT("warehouse.before_commit");
  RETURN_IF_ERROR(
      pg.Exec("INSERT INTO " + schema + "._sluice_publish VALUES (" + name_lit + ", " +
              std::to_string(delta.version) + ", " + std::to_string(rows) + ", now(), " + seq +
              ") ON CONFLICT (table_name) DO UPDATE SET version = EXCLUDED.version, rows_copied = "
              "EXCLUDED.rows_copied, published_at = EXCLUDED.published_at, publish_seq = "
              "EXCLUDED.publish_seq"));
  RETURN_IF_ERROR(pg.Exec("COMMIT"));
  SLUICE_FAILPOINT("warehouse.after_commit");
  double seconds = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    t.published = delta.version;
    t.rows += rows;
    if (behind_since_us_ > 0) seconds = static_cast<double>(env_->NowMicros() - behind_since_us_) / 1e6;
  }
  if (hooks_.published) hooks_.published(seconds, rows);
  return Status::OK();
}

void PgPublisher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PgPublisher::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++notify_gen_;
    notified_ = true;
    if (behind_since_us_ == 0) behind_since_us_ = env_->NowMicros();
  }
  cv_.notify_all();
}

void PgPublisher::Stop(bool final_pass) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    final_pass_ = final_pass;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PgPublisher::Loop() {
  std::mt19937_64 rng(std::random_device{}());
  std::unique_lock<std::mutex> lock(mu_);
  bool want = true;  // a pass at start: catch up with what happened while not running
  Clock::time_point retry_at{};
  while (!stop_) {
    if (!want) cv_.wait(lock, [&] { return stop_ || notified_; });
    if (stop_) break;
    if (Clock::now() < retry_at) {
      cv_.wait_until(lock, retry_at, [&] { return stop_; });
      if (stop_) break;
    }
    notified_ = false;
    want = false;
    lock.unlock();
    const bool ok = PublishAll().ok();
    lock.lock();
    if (ok) {
      retry_at = {};
      continue;
    }
    want = true;
    // Capped exponential backoff with jitter (a half to the whole of the step).
    const double step =
        std::min(kBackoffMaxSeconds,
                 kBackoffFirstSeconds * std::pow(2.0, std::min<int64_t>(consecutive_failures_, 20) - 1));
    const double wait = step * std::uniform_real_distribution<double>(0.5, 1.0)(rng);
    retry_at = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(wait * 1e6));
  }
  if (final_pass_ && consecutive_failures_ == 0) {
    lock.unlock();
    (void)PublishAll();
  }
}

Status PgPublisher::Prune(Catalog& catalog) {
  std::vector<std::pair<std::string, int64_t>> todo;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Table& t : tables_) {
      if (t.published > t.pruned) todo.emplace_back(t.target.table, t.published);
    }
  }
  for (const auto& [table, version] : todo) {
    RETURN_IF_ERROR(PruneWarehouseChanges(catalog, table, version));
    std::lock_guard<std::mutex> lock(mu_);
    for (Table& t : tables_) {
      if (t.target.table == table) t.pruned = std::max(t.pruned, version);
    }
  }
  return Status::OK();
}

WarehouseStats PgPublisher::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  WarehouseStats s;
  for (const Table& t : tables_) {
    s.tables.push_back({t.qualified, t.lake_version, t.published, t.rows});
    s.versions_behind += std::max<int64_t>(0, t.lake_version - t.published);
  }
  // A commit that changed none of the published tables is no lag, even before a pass saw so.
  if (behind_since_us_ > 0 && s.versions_behind > 0) {
    s.seconds_behind = static_cast<double>(env_->NowMicros() - behind_since_us_) / 1e6;
  }
  s.failures = failures_;
  s.consecutive_failures = consecutive_failures_;
  s.last_error = last_error_;
  return s;
}

}  // namespace sluice
