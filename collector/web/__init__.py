"""The collector's server-rendered pages: sites, a site's record, its versions and diffs, baselines."""

from collector.web.routes import setup_web

__all__ = ["setup_web"]
