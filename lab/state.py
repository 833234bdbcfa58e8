"""The running lab's current site: simulators read it on every request, so changes apply live."""

from __future__ import annotations

from dataclasses import dataclass, field

from lab.site import LabSite, OnvifDevice, Switch


@dataclass
class LabState:
    """Holds the site as it is now. `site` is replaced whole when a change is applied."""

    site: LabSite
    generation: int = 0
    gone: set[str] = field(default_factory=set)  # devices that stopped answering (gone_after_discovery)

    def replace(self, site: LabSite) -> None:
        site.forget_index()  # the new site may have been edited in place after its lookups were built
        self.site = site
        self.generation += 1

    def device(self, name: str) -> OnvifDevice | None:
        return next((d for d in self.site.devices if d.name == name), None)

    def switch(self, name: str) -> Switch | None:
        return next((s for s in self.site.switches if s.name == name), None)
