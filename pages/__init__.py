"""Pages people read: pure renderers of query results into HTML (see pages.render)."""
