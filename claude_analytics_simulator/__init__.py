"""A local simulator of the Claude Enterprise Analytics API, written from the public spec only.

It is an independent witness: it imports nothing from the pipeline (`sources/`, `pipelines/`), so a
wrong path or field name in the pipeline cannot agree with itself here.

    from claude_analytics_simulator import Simulator

    with Simulator(users=200) as sim:
        ...  # point the client at sim.base_url with the header x-api-key: sim.api_key
"""

from .cli import add_arguments, config_from_args, serve
from .config import BASE_PATH, DATA_FLOOR, ENDPOINT_PATHS, FaultConfig, SimulatorConfig
from .data import Organization
from .server import Simulator

__all__ = [
    "BASE_PATH",
    "DATA_FLOOR",
    "ENDPOINT_PATHS",
    "FaultConfig",
    "Organization",
    "Simulator",
    "SimulatorConfig",
    "add_arguments",
    "config_from_args",
    "serve",
]
