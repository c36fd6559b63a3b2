-- Fulfillment keeps no buyer data (domain.md section 8): the destination's city, region and country
-- only. Copies of whole addresses kept before the buyer's part was sealed on order.events are cut
-- down now rather than on their order's erasure; nothing here ever read them.
UPDATE orders
   SET ship_to = ship_to || '{"name": null, "lines": [], "postal_code": null, "phone": null}'::jsonb
 WHERE ship_to IS NOT NULL;
