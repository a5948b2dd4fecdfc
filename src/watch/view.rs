//! Renders watch events: a live table on a terminal, plain lines otherwise, or NDJSON.
