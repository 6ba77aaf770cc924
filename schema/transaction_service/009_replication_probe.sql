-- replication_probe: the write of persistence::confirm_durable (persistence/replication.hpp). A
-- commit seen on the primary may not be on the synchronous standby yet (a backend terminated while
-- it waited for it stays committed on the primary alone); before such a commit is promised to a
-- client or published, a session commits a write of its own here: that commit waits for the
-- synchronous standby (a transaction that writes no WAL would not), and WAL is one sequence, so
-- the standby confirming it confirms every commit before it. 64 rows at most (pid modulo 64), so
-- sessions seldom wait for each other's row and the table never grows.
CREATE TABLE IF NOT EXISTS replication_probe (
  slot integer PRIMARY KEY CHECK (slot >= 0 AND slot < 64),
  confirmed_at timestamptz NOT NULL
);
