-- The benchmark's plain-DuckDB reference: the work of `sluice run` on the orders source, written
-- as plain SQL (no ledger, no DLQ detail beyond the reason, no publishing, no crash safety).
-- Run by bench/duckdb_sql with
--   --var LAKE=DIR      staging Parquet is written under DIR/staging/orders/day=.../tenant=...
--   --var RESULT=FILE   the final results, as a JSON array of {metric, key, value} (bench/run.sh
--                       checks them against the generator's expected.json)
--   --batch FILE ...    the landing files, in order; the @batch section runs once per file.
--
-- Line classification follows the contract of the example project (contracts/orders.yaml). Two hazards
-- shape it: read_json(ignore_errors=true) silently loses valid rows, so every line is read as
-- text and classified here; and DuckDB does not short-circuit AND inside a CASE condition, so
-- the JSON functions sit in nested CASEs behind json_valid. The only lines the reader itself
-- rejects are invalid UTF-8 (and lines over its 2 MB maximum): store_rejects keeps each of them,
-- with its line number, and they go to the DLQ.

-- @setup
SET TimeZone = 'UTC';
CREATE TABLE dlq (batch_no INTEGER, line_no BIGINT, reason VARCHAR, raw VARCHAR);
CREATE TABLE curated (
  order_id VARCHAR, tenant_id VARCHAR, status VARCHAR, amount DECIMAL(12, 2),
  created_at TIMESTAMPTZ, seq BIGINT, _batch_no INTEGER);
CREATE TABLE daily_revenue (day DATE, tenant_id VARCHAR, orders BIGINT, revenue DECIMAL(38, 2));

-- @batch
-- @step read
-- The batch's lines as text. A field delimiter and no quote/escape characters that cannot occur
-- in a line make each line one VARCHAR value; a NULL is an empty line.
CREATE OR REPLACE TEMP TABLE raw AS
SELECT line FROM read_csv('${BATCH}', columns = {'line': 'VARCHAR'}, header = false, auto_detect = false,
                          delim = E'\x01', quote = '', escape = '', new_line = '\n',
                          store_rejects = true, rejects_table = 'rejects', rejects_scan = 'rejects_scan');

-- @step parse
-- The six contract fields as JSON values (NULL when absent) of each line that is a JSON object;
-- f is NULL for a line that is not.
CREATE OR REPLACE TEMP TABLE parsed AS
SELECT line,
       CASE WHEN line IS NOT NULL AND json_valid(line) THEN
         CASE WHEN json_type(line) = 'OBJECT' THEN
           json_extract(line, ['$.order_id', '$.tenant_id', '$.status', '$.amount', '$.created_at', '$.seq'])
         END
       END AS f
FROM raw;

-- @step classify
-- reason is NULL for a valid row. Missing and JSON null are the same for the contract.
CREATE OR REPLACE TEMP TABLE classified AS
WITH typed AS (
  SELECT line, f,
         json_type(f[1]) AS t_order_id, json_type(f[2]) AS t_tenant_id, json_type(f[3]) AS t_status,
         json_type(f[4]) AS t_amount, json_type(f[5]) AS t_created_at, json_type(f[6]) AS t_seq
  FROM parsed
), converted AS (
  SELECT *,
         CASE WHEN t_order_id = 'VARCHAR' THEN f[1] ->> '$' END AS order_id,
         CASE WHEN t_tenant_id = 'VARCHAR' THEN f[2] ->> '$' END AS tenant_id,
         CASE WHEN t_status = 'VARCHAR' THEN f[3] ->> '$' END AS status,
         CASE WHEN t_amount IN ('BIGINT', 'UBIGINT', 'DOUBLE')
              THEN TRY_CAST(f[4]::VARCHAR AS DECIMAL(18, 2)) END AS amount18,
         CASE WHEN t_created_at = 'VARCHAR' THEN TRY_CAST(f[5] ->> '$' AS TIMESTAMPTZ) END AS created_at,
         CASE WHEN t_seq IN ('BIGINT', 'UBIGINT') THEN TRY_CAST(f[6]::VARCHAR AS BIGINT) END AS seq
  FROM typed
)
SELECT line, order_id, tenant_id, status, amount18::DECIMAL(12, 2) AS amount, created_at, seq,
       CASE
         WHEN f IS NULL THEN 'malformed_record'
         WHEN coalesce(t_order_id, 'NULL') = 'NULL' OR coalesce(t_tenant_id, 'NULL') = 'NULL'
           OR coalesce(t_created_at, 'NULL') = 'NULL' OR coalesce(t_seq, 'NULL') = 'NULL'
           THEN 'missing_required'
         WHEN order_id IS NULL OR tenant_id IS NULL OR created_at IS NULL
           OR (coalesce(t_status, 'NULL') <> 'NULL' AND status IS NULL)
           OR (coalesce(t_amount, 'NULL') <> 'NULL' AND t_amount NOT IN ('BIGINT', 'UBIGINT', 'DOUBLE'))
           OR (t_seq NOT IN ('BIGINT', 'UBIGINT'))
           THEN 'bad_type'
         WHEN status NOT IN ('created', 'paid', 'shipped', 'delivered', 'cancelled') THEN 'not_in_enum'
         WHEN seq IS NULL THEN 'out_of_range'
         WHEN coalesce(t_amount, 'NULL') <> 'NULL'
           AND (amount18 IS NULL OR amount18 < 0 OR amount18 >= 10000000000) THEN 'out_of_range'
       END AS reason
FROM converted;

-- @step stage
-- Valid rows to immutable Parquet, hive-partitioned by day and tenant, one file per partition
-- and batch, stamped with the batch.
COPY (
  SELECT order_id, tenant_id, status, amount, created_at, seq,
         ${BATCH_NO} AS _batch_no, now() AS _ingested_at,
         CAST(created_at AS DATE) AS day, tenant_id AS tenant
  FROM classified WHERE reason IS NULL
) TO '${LAKE}/staging/orders'
  (FORMAT parquet, PARTITION_BY (day, tenant), APPEND, FILENAME_PATTERN 'batch${BATCH_NO}_{uuid}');

-- @step dlq
INSERT INTO dlq
SELECT ${BATCH_NO}, NULL, reason, line FROM classified WHERE reason IS NOT NULL
UNION ALL
SELECT ${BATCH_NO}, line,
       CASE WHEN error_type::VARCHAR = 'INVALID ENCODING' THEN 'bad_encoding' ELSE 'malformed_record' END,
       csv_line
FROM rejects;

-- @step changes
-- Per key, the batch's winning row (highest seq; within a batch, equal seqs are exact
-- duplicates), and whether it replaces the curated row (a tie goes to the later batch: this one).
CREATE OR REPLACE TEMP TABLE changes AS
WITH winners AS (
  SELECT order_id, max_by({'tenant_id': tenant_id, 'status': status, 'amount': amount,
                           'created_at': created_at, 'seq': seq}, seq) AS r
  FROM classified WHERE reason IS NULL GROUP BY order_id
)
SELECT w.order_id, w.r.tenant_id, w.r.status, w.r.amount, w.r.created_at, w.r.seq,
       c.order_id IS NOT NULL AS existing,
       CAST(c.created_at AS DATE) AS old_day, c.tenant_id AS old_tenant_id
FROM winners w LEFT JOIN curated c ON c.order_id = w.order_id
WHERE c.order_id IS NULL OR w.r.seq >= c.seq;

-- @step touched
-- The (day, tenant) partitions of the mart whose input changes: those of the new rows and of
-- the rows they replace.
CREATE OR REPLACE TEMP TABLE touched AS
SELECT DISTINCT CAST(created_at AS DATE) AS day, tenant_id FROM changes
UNION
SELECT DISTINCT old_day, old_tenant_id FROM changes WHERE existing;

-- @step merge
MERGE INTO curated c USING changes s ON c.order_id = s.order_id
WHEN MATCHED THEN UPDATE SET tenant_id = s.tenant_id, status = s.status, amount = s.amount,
                             created_at = s.created_at, seq = s.seq, _batch_no = ${BATCH_NO}
WHEN NOT MATCHED THEN INSERT (order_id, tenant_id, status, amount, created_at, seq, _batch_no)
  VALUES (s.order_id, s.tenant_id, s.status, s.amount, s.created_at, s.seq, ${BATCH_NO});

-- @step mart
DELETE FROM daily_revenue d USING touched t WHERE d.day = t.day AND d.tenant_id = t.tenant_id;
-- @step mart
INSERT INTO daily_revenue
SELECT CAST(created_at AS DATE) AS day, tenant_id, count(*) AS orders, sum(amount) AS revenue
FROM curated c SEMI JOIN touched t ON CAST(c.created_at AS DATE) = t.day AND c.tenant_id = t.tenant_id
WHERE status <> 'cancelled'
GROUP BY ALL;

-- @step cleanup
DROP TABLE rejects;
-- @step cleanup
DROP TABLE rejects_scan;

-- @final
-- @step results
COPY (
  SELECT 'orders' AS metric, '' AS key, count(*)::VARCHAR AS value FROM curated
  UNION ALL
  SELECT 'status', status, count(*)::VARCHAR FROM curated GROUP BY status
  UNION ALL
  SELECT 'revenue', tenant_id, sum(revenue)::VARCHAR FROM daily_revenue GROUP BY tenant_id
  UNION ALL
  SELECT 'mart', day::VARCHAR || '/' || tenant_id, orders::VARCHAR || '/' || revenue::VARCHAR
  FROM daily_revenue
  UNION ALL
  SELECT 'staged', '', count(*)::VARCHAR FROM read_parquet('${LAKE}/staging/orders/*/*/*.parquet')
  UNION ALL
  SELECT 'dead', reason, count(*)::VARCHAR FROM dlq GROUP BY reason
) TO '${RESULT}' (FORMAT json, ARRAY true);
