-- The texts of messages about no order are erased on a clock tick 30 days after their last word
-- (domain.md section 8); these indexes find them without a scan.
CREATE INDEX buyer_messages_orderless_texts ON buyer_messages ((coalesce(replied_at, received_at)))
    WHERE order_id IS NULL AND (subject IS NOT NULL OR body IS NOT NULL);
CREATE INDEX seller_messages_orderless_texts ON seller_messages (sent_at)
    WHERE order_id IS NULL AND body IS NOT NULL;
