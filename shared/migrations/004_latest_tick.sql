-- The latest `clock.ticked` itself and the skew allowed after it (design.md section 3): the door
-- refuses business times after latest_tick + max_clock_skew, HTTP commands too, and no event moves a
-- clock past that. `now` may run ahead of latest_tick where a service lets event times move its
-- clock (metrics), never beyond the same bound. The consumer records both on every tick.
ALTER TABLE business_clock ADD COLUMN latest_tick timestamptz;
ALTER TABLE business_clock ADD COLUMN max_clock_skew interval;
UPDATE business_clock SET latest_tick = now;
