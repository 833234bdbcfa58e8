"""asbuilt's composition root: the `asbuilt` command line, its version and the demo.

The areas (agent/, collector/, drivers/, lab/) do not import each other's command lines; this
package is the one place that puts them together, so agent/ never imports collector/ or lab/.
"""

from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _version

try:
    __version__ = _version("asbuilt")
except PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0"
