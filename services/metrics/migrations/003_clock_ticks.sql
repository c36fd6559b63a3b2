-- Every clock tick the fold has seen (domain.md section 6, judged at ticks): a deadline passes at the
-- first tick at or after it, so an item re-evaluated late (a backlog, a replay) is judged by that tick.
CREATE TABLE clock_ticks (
    now timestamptz PRIMARY KEY
);
