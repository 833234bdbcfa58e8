"""asbuilt agent package."""
