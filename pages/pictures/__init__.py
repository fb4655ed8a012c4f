"""Pictures for the pages, drawn as inline SVG from the same rows the pages show: plain data in,
markup out, with no style attribute or script (the pages' Content-Security-Policy forbids both)."""

from pages.pictures.heatmap import heatmap
from pages.pictures.timeline import timeline
from pages.pictures.world import world_map

__all__ = ["heatmap", "timeline", "world_map"]
