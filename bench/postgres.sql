-- The benchmark's PostgreSQL reference: the work of `sluice run` on the orders source, done the
-- way one would in PostgreSQL (COPY the raw lines, validate and convert with jsonb in SQL, upsert
-- with INSERT ... ON CONFLICT, refresh the touched mart partitions). Driven by bench/postgres.sh,
-- one psql session per phase:
--   -v phase=setup                          the schema and helper functions
--   -v phase=batch -v batch_no=N < FILE     one landing file, read from psql's stdin
--   -v phase=final                          prints the results as one JSON array of
--                                           {metric, key, value} (bench/run.sh checks them)
-- The database is SQL_ASCII so that COPY takes every line, invalid UTF-8 included, as bytes;
-- the UTF-8 check is ours. The server runs with timezone = UTC.
-- `\echo @step NAME` lines name the statements after them in postgres.sh's timings.

\set ON_ERROR_STOP on
SELECT :'phase' = 'setup' AS is_setup, :'phase' = 'batch' AS is_batch, :'phase' = 'final' AS is_final \gset

\if :is_setup
-- PostgreSQL 15 has no pg_input_is_valid: safe conversions catch the error. Each call runs a
-- subtransaction, which is part of the cost of doing this in PostgreSQL.
CREATE FUNCTION try_jsonb(t text) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  RETURN t::jsonb;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;

CREATE FUNCTION try_timestamptz(t text) RETURNS timestamptz LANGUAGE plpgsql STABLE STRICT AS $$
BEGIN
  RETURN t::timestamptz;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;

-- True when the bytes of t are valid UTF-8 (called only for lines with a byte >= 0x80).
CREATE FUNCTION is_utf8(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
  PERFORM convert_from(textsend(t), 'UTF8');
  RETURN true;
EXCEPTION WHEN others THEN
  RETURN false;
END $$;

-- Per batch scratch tables: unlogged, emptied at the start of each batch.
CREATE UNLOGGED TABLE raw (line text);
CREATE UNLOGGED TABLE classified (
  line text, reason text, order_id text, tenant_id text, status text, amount numeric(12, 2),
  created_at timestamptz, seq bigint);
CREATE UNLOGGED TABLE changes (
  order_id text, tenant_id text, status text, amount numeric(12, 2), created_at timestamptz,
  seq bigint, existing boolean, old_day date, old_tenant_id text);
CREATE UNLOGGED TABLE touched (day date, tenant_id text);

-- The durable layers.
CREATE TABLE staging_orders (
  order_id text, tenant_id text, status text, amount numeric(12, 2), created_at timestamptz,
  seq bigint, _batch_no int, _ingested_at timestamptz, day date, tenant text);
CREATE TABLE dlq (batch_no int, reason text, raw text);
CREATE TABLE curated (
  order_id text PRIMARY KEY, tenant_id text, status text, amount numeric(12, 2),
  created_at timestamptz, seq bigint, _batch_no int);
CREATE TABLE daily_revenue (day date, tenant_id text, orders bigint, revenue numeric,
                            PRIMARY KEY (day, tenant_id));
\endif

\if :is_batch
\timing on
\echo @step read
TRUNCATE raw, classified, changes, touched;
-- CSV with a delimiter and a quote character that do not occur in the data: each line is one
-- value, backslashes and tabs are kept as they are; an empty line is NULL.
\copy raw (line) FROM pstdin WITH (FORMAT csv, DELIMITER E'\x01', QUOTE E'\x02')

\echo @step classify
INSERT INTO classified
WITH parsed AS MATERIALIZED (
  SELECT line, bad_encoding,
         CASE WHEN NOT bad_encoding THEN try_jsonb(line) END AS j
  FROM (SELECT line, coalesce(line ~ '[\x80-\xff]' AND NOT is_utf8(line), false) AS bad_encoding
        FROM raw) r
), typed AS MATERIALIZED (
  SELECT line, bad_encoding, j,
         jsonb_typeof(j -> 'order_id') AS t_order_id, jsonb_typeof(j -> 'tenant_id') AS t_tenant_id,
         jsonb_typeof(j -> 'status') AS t_status, jsonb_typeof(j -> 'amount') AS t_amount,
         jsonb_typeof(j -> 'created_at') AS t_created_at, jsonb_typeof(j -> 'seq') AS t_seq
  FROM parsed
), converted AS MATERIALIZED (
  SELECT *,
         CASE WHEN t_amount = 'number' THEN (j ->> 'amount')::numeric END AS amount_n,
         CASE WHEN t_created_at = 'string' THEN try_timestamptz(j ->> 'created_at') END AS created_at,
         CASE WHEN t_seq = 'number' AND (j ->> 'seq') ~ '^-?[0-9]{1,18}$' THEN (j ->> 'seq')::bigint END AS seq,
         CASE WHEN t_seq = 'number' AND (j ->> 'seq') ~ '^-?[0-9]+$' THEN true ELSE false END AS seq_integral
  FROM typed
), reasons AS (
  SELECT *,
         CASE
           WHEN bad_encoding THEN 'bad_encoding'
           WHEN j IS NULL OR jsonb_typeof(j) <> 'object' THEN 'malformed_record'
           WHEN coalesce(t_order_id, 'null') = 'null' OR coalesce(t_tenant_id, 'null') = 'null'
             OR coalesce(t_created_at, 'null') = 'null' OR coalesce(t_seq, 'null') = 'null'
             THEN 'missing_required'
           WHEN t_order_id <> 'string' OR t_tenant_id <> 'string' OR created_at IS NULL
             OR coalesce(t_status, 'null') NOT IN ('null', 'string')
             OR coalesce(t_amount, 'null') NOT IN ('null', 'number')
             OR NOT seq_integral
             THEN 'bad_type'
           WHEN j ->> 'status' NOT IN ('created', 'paid', 'shipped', 'delivered', 'cancelled') THEN 'not_in_enum'
           WHEN seq IS NULL OR amount_n < 0 OR amount_n >= 10000000000 THEN 'out_of_range'
         END AS reason
  FROM converted
)
SELECT line, reason,
       CASE WHEN reason IS NULL THEN j ->> 'order_id' END,
       CASE WHEN reason IS NULL THEN j ->> 'tenant_id' END,
       CASE WHEN reason IS NULL THEN j ->> 'status' END,
       CASE WHEN reason IS NULL THEN amount_n END,
       CASE WHEN reason IS NULL THEN created_at END,
       CASE WHEN reason IS NULL THEN seq END
FROM reasons;
ANALYZE classified;

\echo @step stage
INSERT INTO staging_orders
SELECT order_id, tenant_id, status, amount, created_at, seq, :batch_no, now(),
       created_at::date, tenant_id
FROM classified WHERE reason IS NULL;

\echo @step dlq
INSERT INTO dlq SELECT :batch_no, reason, line FROM classified WHERE reason IS NOT NULL;

\echo @step changes
-- Per key, the batch's winning row (equal seqs within a batch are exact duplicates), kept when
-- it replaces the curated row (a tie goes to the later batch: this one).
INSERT INTO changes
SELECT w.order_id, w.tenant_id, w.status, w.amount, w.created_at, w.seq,
       c.order_id IS NOT NULL, c.created_at::date, c.tenant_id
FROM (SELECT DISTINCT ON (order_id) order_id, tenant_id, status, amount, created_at, seq
      FROM classified WHERE reason IS NULL
      ORDER BY order_id, seq DESC) w
LEFT JOIN curated c ON c.order_id = w.order_id
WHERE c.order_id IS NULL OR w.seq >= c.seq;
ANALYZE changes;

\echo @step touched
INSERT INTO touched
SELECT created_at::date, tenant_id FROM changes
UNION
SELECT old_day, old_tenant_id FROM changes WHERE existing;

\echo @step merge
INSERT INTO curated AS c (order_id, tenant_id, status, amount, created_at, seq, _batch_no)
SELECT order_id, tenant_id, status, amount, created_at, seq, :batch_no FROM changes
ON CONFLICT (order_id) DO UPDATE
  SET tenant_id = excluded.tenant_id, status = excluded.status, amount = excluded.amount,
      created_at = excluded.created_at, seq = excluded.seq, _batch_no = excluded._batch_no
  WHERE excluded.seq >= c.seq;

\echo @step mart
BEGIN;
DELETE FROM daily_revenue d USING touched t WHERE d.day = t.day AND d.tenant_id = t.tenant_id;
INSERT INTO daily_revenue
SELECT c.created_at::date, c.tenant_id, count(*), sum(c.amount)
FROM curated c
WHERE c.status <> 'cancelled'
  AND EXISTS (SELECT 1 FROM touched t WHERE t.day = c.created_at::date AND t.tenant_id = c.tenant_id)
GROUP BY 1, 2;
COMMIT;
\endif

\if :is_final
\pset format unaligned
\pset tuples_only on
SELECT json_agg(json_build_object('metric', metric, 'key', key, 'value', value))
FROM (
  SELECT 'orders' AS metric, '' AS key, count(*)::text AS value FROM curated
  UNION ALL
  SELECT 'status', status, count(*)::text FROM curated GROUP BY status
  UNION ALL
  SELECT 'revenue', tenant_id, sum(revenue)::text FROM daily_revenue GROUP BY tenant_id
  UNION ALL
  SELECT 'mart', day::text || '/' || tenant_id, orders::text || '/' || revenue::text FROM daily_revenue
  UNION ALL
  SELECT 'staged', '', count(*)::text FROM staging_orders
  UNION ALL
  SELECT 'dead', reason, count(*)::text FROM dlq GROUP BY reason
) r;
\endif
