"""asbuilt collector package."""
