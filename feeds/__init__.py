"""Atom, RSS and JSON Feed builders over the change log (see docs/architecture.md).

Pure functions: a FeedSpec (feeds.model) and change-log rows in, document bytes out, from
feeds.atom.build_atom, feeds.rss.build_rss and feeds.jsonfeed.build_json_feed. No queries,
no I/O, no wall clock: the same inputs always give the same bytes, so ETags and archive pages hold.
"""
