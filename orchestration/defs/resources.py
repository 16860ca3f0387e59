"""Resources shared by the asset areas."""

import dagster as dg

from orchestration.settings import Paths


class CardwatchResource(dg.ConfigurableResource):
    """Where Cardwatch keeps its state; environment variables are read here, at run time."""

    home: str = ""

    def paths(self) -> Paths:
        return Paths.from_env(self.home or None).ensure()
