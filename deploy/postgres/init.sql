-- Per service one database and two login roles, the database reachable only by
-- them (plus superusers), so a service cannot read another's tables:
--   <svc>_service      owns the database and its schema: the migration role
--                      (`ecomops-migrate upgrade`, <SVC>_MIGRATION_DATABASE_URL);
--   <svc>_service_app  the runtime role the service runs as (<SVC>_DATABASE_URL):
--                      the migrations grant it rows only, no DDL.
-- Passwords equal the role names: local development only.
--
-- Used by both docker-compose.yml (mounted into /docker-entrypoint-initdb.d)
-- and scripts/infra/postgres.sh (run on every start), so it is idempotent
-- and relies on psql's \gexec: CREATE DATABASE cannot run inside DO blocks.
-- tests/infra/test_compose.py parses the VALUES list below.

CREATE TEMP TABLE ecomops_service_db (name text PRIMARY KEY);
INSERT INTO ecomops_service_db (name) VALUES
    ('order_service'),
    ('allocation_service'),
    ('warehouse_service'),
    ('returns_service'),
    ('finance_service'),
    ('control_service'),
    ('catalog_service'),
    ('supply_service'),
    ('shipping_service');

CREATE TEMP TABLE ecomops_service_role AS
  SELECT name AS role, name AS database FROM ecomops_service_db
  UNION ALL SELECT name || '_app', name FROM ecomops_service_db;

SELECT format('CREATE ROLE %I', role) FROM ecomops_service_role
 WHERE role NOT IN (SELECT rolname FROM pg_roles) \gexec
-- Re-applied every time so a role changed by hand converges back.
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD %L', role, role)
  FROM ecomops_service_role \gexec

SELECT format('CREATE DATABASE %I OWNER %I', name, name) FROM ecomops_service_db
 WHERE name NOT IN (SELECT datname FROM pg_database) \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', name, name) FROM ecomops_service_db \gexec
-- PUBLIC (every role) may CONNECT to a new database by default: take it away.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', name) FROM ecomops_service_db \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', database, role) FROM ecomops_service_role \gexec

DROP TABLE ecomops_service_role;
DROP TABLE ecomops_service_db;
