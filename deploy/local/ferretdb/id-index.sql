SET client_min_messages = warning;
-- Every table FerretDB v1 creates for a collection gets a GIN index that serves its `_id` lookups.
-- FerretDB v1.24 pushes `_id` equality down as `_jsonb->'_id' @> $2`, which its own btree index on
-- ((_jsonb->'_id')) cannot serve, so without this every findOne({_id}) and every replace scans its table
-- (FerretDB#4646; docs/ferretdb-gaps.md). An event trigger covers the collections created later, whoever creates
-- them; the DO block below covers the tables that exist already. Idempotent: run at every start of the stack.

CREATE OR REPLACE FUNCTION echocue_index_ferretdb_table(tbl oid) RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  sch text;
  rel text;
BEGIN
  SELECT n.nspname, c.relname INTO sch, rel
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid = tbl AND c.relkind = 'r';
  -- FerretDB's collection tables hold one jsonb column, _jsonb; anything else is not ours to index.
  IF rel IS NULL OR NOT EXISTS (
    SELECT 1 FROM pg_attribute WHERE attrelid = tbl AND attname = '_jsonb' AND NOT attisdropped
  ) THEN
    RETURN;
  END IF;
  -- fastupdate = off: a GIN pending list would be scanned by every lookup until it is merged.
  EXECUTE format(
    'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin ((_jsonb -> ''_id'') jsonb_path_ops) WITH (fastupdate = off)',
    left(rel, 40) || '_' || substr(md5(rel), 1, 8) || '_idgin', sch, rel);
END
$fn$;

CREATE OR REPLACE FUNCTION echocue_index_created_tables() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE TABLE' AND object_type = 'table' LOOP
    PERFORM echocue_index_ferretdb_table(r.objid);
  END LOOP;
END
$fn$;

DROP EVENT TRIGGER IF EXISTS echocue_index_ferretdb_id;
CREATE EVENT TRIGGER echocue_index_ferretdb_id ON ddl_command_end
  WHEN TAG IN ('CREATE TABLE')
  EXECUTE FUNCTION echocue_index_created_tables();

DO $do$
DECLARE
  r record;
BEGIN
  FOR r IN
    SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
  LOOP
    PERFORM echocue_index_ferretdb_table(r.oid);
  END LOOP;
END
$do$;

-- FerretDB's driver (pgx) prepares its statements once per connection, and the key is a parameter
-- (`_jsonb->$1 @> $2`). Prepared while a collection is small and run five times, a statement gets a generic plan (a
-- scan is cheapest then), and PostgreSQL keeps it as the collection grows until the next ANALYZE; in a generic plan
-- `_jsonb->$1` never matches the index expression, so every lookup scans (measured: 0.8 ms at 2,000 documents,
-- 15 ms at 50,000). Custom plans are made per execution with the key and use the index (0.8 ms at both).
-- test/integration/local-stack.test.ts replays that sequence. Applies to sessions started after this.
DO $do$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET plan_cache_mode = force_custom_plan', current_database());
END $do$;
