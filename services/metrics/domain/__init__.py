"""The metrics domain, pure (no I/O):

- `facts`: per-item facts folded from events (`apply(state, event) -> state`);
- `contributions`: what an item adds to each metric at a moment, and its timeline of daily bucket rows;
- `scorecard`: window sums -> rates, statuses, sales; day-end history;
- `health`: the account health rating and its ledger;
- `enforcement`: warn, restrict, suspend, reinstate.
"""
