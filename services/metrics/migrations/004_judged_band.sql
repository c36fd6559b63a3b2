-- The band as the last clock tick judged it: "entering at risk" (domain.md section 7) is a change
-- between two ticks, however many refreshes between them moved `band` (that one follows every event).
ALTER TABLE sellers ADD COLUMN judged_band text NOT NULL DEFAULT 'healthy';
UPDATE sellers SET judged_band = band;
