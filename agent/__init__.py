"""asbuilt agent: the on-site pipeline sweep → identify → collect → correlate → snapshot → push."""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("asbuilt")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
