-- The floor worker's two tables: one stored response body, and one row per webhook received.
CREATE TABLE blobs (id INTEGER PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, received_at INTEGER NOT NULL);
