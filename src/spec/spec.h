// The project spec: sluice.yaml with its contracts and SQL models, loaded and cross-checked.
//
// LoadProject either returns a ProjectSpec in which every reference resolves (sources name
// existing contracts, tables name existing sources and columns, marts' SQL files exist) or an
// InvalidArgument that names the file, line and field. Plain data, safe to share read-only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/memory_limit.h"
#include "common/status.h"
#include "spec/contract.h"

namespace sluice {

// The (day, tenant) partitioning of a source or mart: column names, either may be empty.
// For a source, `day` names a date or timestamp column of its contract; for a mart, columns of
// the model's output. Partition columns of a source must be `required` in its contract.
struct PartitionBy {
  std::string day;
  std::string tenant;
  bool empty() const { return day.empty() && tenant.empty(); }
};

enum class SourceFormat { kJsonl, kCsv, kParquet };

// How a source's data arrives: files found by a glob on every `sluice run`, or events pushed to
// `sluice serve` (HTTP) or pulled by it from a NATS JetStream stream.
enum class SourceType { kFiles, kHttp, kNats };

// `nats:` of a `type: nats` source: a durable pull consumer on `stream`, filtered by `subject`.
struct NatsSourceSpec {
  std::string url;  // nats://127.0.0.1:4222
  std::string stream;
  std::string subject;  // may hold wildcards; empty: the whole stream
  std::string durable;  // the consumer's durable name; default sluice_<source>
};

// `batch:` of a stream source: a micro-batch is cut at `max_rows` rows or `max_wait_ms` after
// its first event, whichever comes first.
struct MicroBatchSpec {
  int64_t max_rows = 50000;
  int64_t max_wait_ms = 1000;
};

// Half the rows dead-lettered is no longer a few bad records but a file of the wrong shape.
inline constexpr double kDefaultMaxDeadRatio = 0.5;

// How long staged batches stay (`retention.staging`, or a source's own `retention:`): files older
// than `hot` move to the cold tier, and are deleted once older than `cold` (docs/LIFECYCLE.md).
// Unset: kept hot (or cold) forever.
struct StagingRetention {
  std::optional<int64_t> hot_seconds;
  std::optional<int64_t> cold_seconds;
};

// Which snapshots of a curated table or mart stay readable (`retention.snapshots`, or a table's
// own `retention: {snapshots: ...}`): a snapshot expires once it is neither among the last
// `keep_last` nor younger than `keep_within`, and no reader pins it.
struct SnapshotRetention {
  int64_t keep_last = 10;
  std::optional<int64_t> keep_within_seconds;
};

struct SourceSpec {
  std::string name;
  SourceType type = SourceType::kFiles;
  std::string path;  // files: glob, absolute (resolved against the project root)
  SourceFormat format = SourceFormat::kJsonl;
  std::string contract_path;  // absolute
  Contract contract;
  PartitionBy partition_by;
  char csv_delimiter = ',';  // csv only: `csv: {delimiter: ";"}`
  NatsSourceSpec nats;       // type nats only
  MicroBatchSpec batch;      // http and nats
  // Event time: a timestamp column of the contract (`event_time:`), "" for none. The watermark
  // of a (source, tenant) partition is the largest event time seen minus `allowed_lateness`;
  // an event older than the watermark when it arrives is counted late (and still merged, G3).
  std::string event_time;
  int64_t allowed_lateness_ms = 0;
  // Files sources: a file whose dead-lettered rows exceed this share of its rows is refused
  // whole (nothing committed, not in the ledger) instead of committed (`max_dead_ratio:`, 0..1).
  double max_dead_ratio = kDefaultMaxDeadRatio;
  // `retention: {hot: 7d, cold: 90d}` of this source; nullopt: `retention.staging`'s.
  std::optional<StagingRetention> retention;
  // `replay_window: 3d`: staged batches younger than this stay hot, whatever `hot` says, so a
  // replay of recent days reads local files. 0: none.
  int64_t replay_window_seconds = 0;
  int line = 0;

  bool streaming() const { return type != SourceType::kFiles; }
};

const char* SourceTypeName(SourceType type);

// How a failing table test is treated: `error` blocks (quarantines the batch on curated, fails
// the marts step), `warn` is recorded in meta.test_results and lets the data through.
enum class Severity { kError, kWarn };

// A table test from `tests:`. Every kind takes an optional sibling `severity: warn|error`:
//   {not_null: c}, {unique: c | [a, b]}, {accepted_values: {column: c, values: [...]}},
//   {relationships: {column: c, to: curated.t, field: f}}, {range: {column: c, min: x, max: y}},
//   {freshness: {column: c, max_age: 24h}}, {row_count_change: {max_pct: 50}}, {sql: "SELECT ..."}.
struct TableTest {
  std::string kind;                  // one of the kinds above
  std::vector<std::string> columns;  // unique may name several; row_count_change and sql none
  std::vector<std::string> values;   // accepted_values
  Severity severity = Severity::kError;
  std::string to_table;                    // relationships: "curated.customers" or "marts.x"
  std::string to_field;                    // relationships: the referenced column
  std::string min, max;                    // range: bounds as written ("" = unbounded), inclusive
  std::string max_age;                     // freshness: as written, e.g. "24h"
  int64_t max_age_seconds = 0;             // freshness: parsed
  double max_pct = 0;                      // row_count_change
  std::string sql;                         // sql: a query returning the failing rows
  std::vector<std::string> reads_staging;  // sql: the staging.<s> names it reads
  int line = 0;
  // "not_null(order_id)", "range(amount)", "row_count_change", "sql(SELECT ...)": how the test
  // is named in messages and in meta.test_results.
  std::string Describe() const;
  const char* SeverityName() const { return severity == Severity::kWarn ? "warn" : "error"; }
};

// "30s", "30m", "24h", "7d" as seconds; nullopt for anything else.
std::optional<int64_t> ParseDuration(const std::string& text);
// As ParseDuration, in milliseconds, also taking "250ms".
std::optional<int64_t> ParseDurationMillis(const std::string& text);

enum class TableKind { kCurated, kMart };

// A column of a mart's output that sluice.yaml names (in `partition_by`, a test, or another
// table's relationships test): the model's output columns are known only once DuckDB binds it,
// so these are checked before every run (transform/model_check.h).
struct OutputColumnRef {
  std::string column;
  std::string where;  // "sluice.yaml:12:19: tables.m.partition_by.day": where it is written
};

struct TableSpec {
  std::string name;
  TableKind kind = TableKind::kCurated;
  // Curated: merge the source `from` by `key`, highest `version` wins (ties: later batch).
  std::string from;
  std::vector<std::string> key;
  std::string version;
  // Mart: a SELECT over curated.<t> / marts.<t>; `sql` holds the file's text.
  std::string sql_path;  // absolute
  std::string sql;
  PartitionBy partition_by;  // for curated: inherited from the source
  // Curated: `columns: [...]`, the contract columns the table holds and publishes, with its key,
  // version and partition columns added; empty (no `columns:`): every column of the contract.
  std::vector<std::string> columns;
  std::vector<TableTest> tests;
  // The tables this model reads, as DuckDB's parser finds them (marts only; each name once, in
  // text order, unqualified): depends_on the marts, reads_curated the curated tables,
  // reads_staging the sources.
  std::vector<std::string> depends_on;
  std::vector<std::string> reads_curated;
  std::vector<std::string> reads_staging;
  // Marts: the paths (and globs) of project files the model reads, as written in it; each was
  // checked to be under the project directory.
  std::vector<std::string> reads_files;
  // Marts: the columns of its output sluice.yaml names, in file order.
  std::vector<OutputColumnRef> output_columns;
  // `retention: {snapshots: {keep_last: 5, keep_within: 2d}}` of this table; nullopt:
  // `retention.snapshots`'.
  std::optional<SnapshotRetention> snapshot_retention;
  int line = 0;
};

// One API token of `serve.auth.tokens` (docs/SECURITY.md). The secret itself is never in
// sluice.yaml: `secret_env` names the environment variable that holds it.
struct TokenSpec {
  std::string name;
  std::string secret_env;
  std::vector<std::string> scopes;  // "read:<layer>.<table>" (with *), "ingest:<source>", "admin"
  // Set: the token sees (and may ingest) only these tenants' rows.
  std::optional<std::vector<std::string>> tenants;
  int line = 0;
};

// `serve.auth`: `none` (no token asked; only on a loopback address) or `{tokens: [...]}`.
// Absent, it is `none`.
struct ServeAuthSpec {
  bool none = true;
  std::vector<TokenSpec> tokens;
};

// `serve: {query: {...}}`: the limits of `sluice serve`'s read endpoints (docs/QUERY_API.md).
struct ServeQuerySpec {
  int64_t default_rows = 1000;     // rows of a page when the request sets no `limit`
  int64_t max_rows = 100000;       // the most rows one answer holds (a page, or a SQL result)
  int64_t timeout_ms = 30000;      // a SQL query is interrupted after this long
  int64_t max_concurrent = 4;      // SQL queries and row reads running at once; more get 429
  int64_t cursor_ttl_ms = 600000;  // a cursor (and the version it pins) lives this long idle
};

// `serve.postgres:`: the PostgreSQL warehouse sluice publishes tables to (serve/pg_publisher.h,
// docs/WAREHOUSE.md). The DSN itself is never in sluice.yaml: `dsn_env` names the environment
// variable that holds it, read when publishing starts.
struct PostgresServeSpec {
  std::string dsn_env;               // e.g. SLUICE_PG_DSN
  std::string schema = "analytics";  // the PostgreSQL schema the tables are created in
  std::vector<std::string> publish;  // "marts.daily_revenue", "curated.orders"; each a known table
  bool row_security = false;         // RLS policies on the tenant column
  int line = 0;
};

// `serve.tls: {cert: PATH, key: PATH}` (spec/serve_loader.cc): PEM files, absolute paths; read
// when `sluice serve` starts (a missing or unreadable file is an error then, naming the key).
struct ServeTlsSpec {
  std::string cert;
  std::string key;
};

// `serve.limits` (spec/serve_loader.cc): what one HTTP client may hold of `sluice serve`
// (docs/HTTP.md).
struct ServeLimitsSpec {
  int64_t max_connections = 1024;             // open connections, all clients together
  int64_t max_connections_per_client = 256;   // open connections from one client address
  int64_t idle_timeout_ms = 30000;            // no byte either way for this long: closed (whole seconds)
  int64_t request_timeout_ms = 60000;         // a request's headers and body must be in within this
  int64_t max_header_bytes = 16 * 1024;       // request line and headers; beyond: 431
  int64_t max_body_bytes = 64 * 1024 * 1024;  // beyond: 413, before the body is read
};

// `serve:`: settings of `sluice serve`, one struct per section.
struct ServeSpec {
  ServeAuthSpec auth;
  ServeQuerySpec query;
  std::optional<PostgresServeSpec> postgres;
  std::optional<ServeTlsSpec> tls;  // nullopt: plain HTTP
  ServeLimitsSpec limits;
};

// A named reader of a curated table's change feed (`consumers:` in sluice.yaml, docs/FEEDS.md).
struct ConsumerSpec {
  std::string name;
  std::string table;  // the curated table's name ("orders" for `table: curated.orders`)
  // `tenants: [t01]`: the consumer reads only these tenants' changes, and a tenant-bound token
  // may read it only when these are within its own tenants. nullopt: every tenant.
  std::optional<std::vector<std::string>> tenants;
  int line = 0;
};

// `slo:` of sluice.yaml (spec/slo_loader.cc, docs/SLO.md): the service level objectives sluice
// evaluates itself (ops/slo.h), with multi-window multi-burn-rate alerting. Each objective is
// nullopt when switched off (`off`); error_rate and consumer_lag are on without configuration.
struct SloSpec {
  int64_t window_seconds = int64_t{30} * 86400;  // `window: 30d`: the budget's period
  int64_t interval_ms = 5000;                    // `interval: 5s`: how often serve evaluates
  // `min_events: 100`: a ratio SLO (error_rate, ingest latency) alerts only with at least this
  // many events in the alert's long window; `min_intervals: 3`: the same for threshold SLOs,
  // whose events are evaluations.
  int64_t min_events = 100;
  int64_t min_intervals = 3;
  // Threshold SLOs (freshness, consumer lag, transform duration): the share of evaluations that
  // must meet the objective (`target: 99%`).
  double target = 0.99;
  std::optional<double> error_rate = 0.01;  // the share of rows dead-lettered allowed
  std::optional<double> consumer_lag_seconds = 3600;
  // `ingest_latency_p99: 500ms` for every streaming source, or {default: 500ms, sources: {s: 1s}}.
  std::optional<double> ingest_latency_p99_seconds;
  std::map<std::string, double> ingest_latency_p99_sources;  // source -> seconds
  std::optional<double> transform_duration_seconds;
  // `freshness: 2h` for every curated table and mart, or {default: 2h, tables: {curated.t: 30m}}.
  std::optional<double> freshness_seconds;
  std::map<std::string, double> freshness_tables;  // "curated.orders" -> seconds
  // `runbook_base`: prefixed to "docs/RUNBOOKS.md#<slug>" in alerts (e.g. a repository URL/).
  std::string runbook_base;
  // `alerts: {webhook: URL | [URL...], command: "..."}`.
  std::vector<std::string> webhooks;
  std::string command;
  int line = 0;
};

struct ProjectSpec {
  std::string name;
  std::string root;                 // absolute project directory
  std::string spec_path;            // absolute path of sluice.yaml
  std::string lake;                 // absolute lake directory
  std::vector<SourceSpec> sources;  // in file order
  std::vector<TableSpec> tables;    // curated first, then marts in dependency order
  // `retention:` (docs/LIFECYCLE.md). `dlq`: `sluice vacuum` deletes DLQ rows ingested longer
  // ago than this many seconds (also written `dlq: {retention: 30d}`); nullopt (the default)
  // keeps them forever. `idempotency_keys`: HTTP Idempotency-Keys older than this are forgotten
  // (a retry after it loads the request again); nullopt keeps them forever. `cold_path`: where
  // the cold tier lives, absolute; default <lake>/cold.
  struct RetentionSpec {
    StagingRetention staging;
    std::string cold_path;
    std::optional<int64_t> dlq_seconds;
    SnapshotRetention snapshots;
    std::optional<int64_t> idempotency_keys_seconds;
    int line = 0;  // of `retention:`; 0 when absent
  } retention;
  // `transform: {interval: 5s, max_rows: 100000, publish_interval: 30s}`: under `sluice serve`,
  // curate and marts run every `interval`, or sooner once `max_rows` rows were staged since the
  // last; the published Parquet copies are rewritten at most every `publish_interval` (each
  // publish rewrites every changed partition, which a stream touches all of) and when serve stops.
  int64_t transform_interval_ms = 5000;
  int64_t transform_max_rows = 1000000;
  int64_t publish_interval_ms = 30000;
  // `memory_limit: 2GB`: the memory of a sluice process on this project (DuckDB's limit, serve's
  // in-flight budget and a fixed overhead; common/memory_limit.h). nullopt: the command's
  // default; `--memory-limit` overrides both.
  std::optional<int64_t> memory_limit_bytes;
  ServeSpec serve;
  // `lineage: {endpoint: http://host:port/api/v1/lineage, timeout: 5s, retries: 5}`: OpenLineage
  // run events are also POSTed there (docs/LINEAGE.md); endpoint "" (the default): only written
  // to lake/lineage/<date>.jsonl.
  struct LineageSpec {
    std::string endpoint;
    int64_t timeout_ms = 5000;
    int retries = 5;  // attempts after the first, with exponential backoff
  } lineage;
  // `consumers:` in file order, and `feeds: {max_lag: 7d}`: a consumer whose oldest uncommitted
  // change is older than this many seconds is stale (docs/FEEDS.md).
  std::vector<ConsumerSpec> consumers;
  int64_t feeds_max_lag_seconds = int64_t{7} * 86400;
  SloSpec slo;

  // memory_limit_bytes, or the default of a command of kind `use`.
  int64_t MemoryLimit(MemoryUse use) const;

  const SourceSpec* FindSource(const std::string& name) const;
  const TableSpec* FindTable(const std::string& name) const;
  const ConsumerSpec* FindConsumer(const std::string& name) const;
  // A source's staging retention (its own, else `retention.staging`) and a table's snapshot
  // retention (its own, else `retention.snapshots`).
  StagingRetention StagingRetentionFor(const SourceSpec& source) const;
  SnapshotRetention SnapshotRetentionFor(const TableSpec& table) const;
  // Whether curated `table` has at least one consumer (only then is its change log written).
  bool HasConsumers(const std::string& table) const;
};

// The columns of `contract` a curated `table` holds (TableSpec::columns), in contract order, as
// a contract of their own; `contract` itself when the table declares no column list.
Contract HeldColumns(const TableSpec& table, const Contract& contract);

// Loads <project_dir>/sluice.yaml and everything it references.
Result<ProjectSpec> LoadProject(const std::string& project_dir);

}  // namespace sluice
