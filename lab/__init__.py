"""asbuilt lab package."""
