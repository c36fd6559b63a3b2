-- A seller's shipments by time: GET /v1/shipments?shipped_since= reads an index range.
CREATE INDEX shipments_by_seller_time ON shipments (seller_id, shipped_at, shipment_id);
