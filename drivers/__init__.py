"""asbuilt drivers package."""
