-- The latest `clock.ticked` itself (design.md section 3): the door refuses business times after it
-- plus MAX_CLOCK_SKEW, and no event moves a clock past that. `now` may run ahead of it where a
-- service lets event times move its clock (metrics), never beyond the same bound.
ALTER TABLE business_clock ADD COLUMN latest_tick timestamptz;
UPDATE business_clock SET latest_tick = now;
