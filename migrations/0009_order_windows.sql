-- Each account's local order limit is its broker's own window (SnapTrade: one order a second;
-- Schwab direct: 120 order requests a minute): when the current window began and how many orders
-- it has let through. Rows from 0008 start a fresh window on their next order.
ALTER TABLE trade_rate ADD COLUMN window_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE trade_rate ADD COLUMN window_orders INTEGER NOT NULL DEFAULT 0;
