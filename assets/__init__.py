"""Packaged assets (icon); installed as cvexplorer.assets."""
