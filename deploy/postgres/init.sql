-- One login role and one database per service, each database reachable only by
-- its own role (plus superusers), so a service cannot read another's tables.
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
    ('finance_service');

SELECT format('CREATE ROLE %I', name) FROM ecomops_service_db
 WHERE name NOT IN (SELECT rolname FROM pg_roles) \gexec
-- Re-applied every time so a role changed by hand converges back.
SELECT format('ALTER ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD %L', name, name)
  FROM ecomops_service_db \gexec

SELECT format('CREATE DATABASE %I OWNER %I', name, name) FROM ecomops_service_db
 WHERE name NOT IN (SELECT datname FROM pg_database) \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', name, name) FROM ecomops_service_db \gexec
-- PUBLIC (every role) may CONNECT to a new database by default: take it away.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', name) FROM ecomops_service_db \gexec
SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', name, name) FROM ecomops_service_db \gexec

DROP TABLE ecomops_service_db;
