-- Wallet on the compose Postgres: the `wallet` role and one database per service (SPEC.md section
-- 1). Runs once, when the data volume is empty; each service applies its own migrations at start.
CREATE ROLE wallet LOGIN PASSWORD 'wallet';
CREATE DATABASE user_service OWNER wallet;
CREATE DATABASE transaction_service OWNER wallet;
