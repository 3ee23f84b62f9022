"""A local simulator of the Claude Enterprise Analytics API, written from the public spec only.

It is an independent witness: it imports nothing from the pipeline (`sources/`, `pipelines/`), so a
wrong path or field name in the pipeline cannot agree with itself here.

    from claude_analytics_simulator import Simulator

    with Simulator(users=200) as sim:
        ...  # point the client at sim.base_url with the header x-api-key: sim.api_key
"""

from .cli import add_arguments, config_from_args, serve
from .config import (
    BASE_PATH,
    DATA_FLOOR,
    ENDPOINT_PATHS,
    ENGAGEMENT_PATHS,
    REPORT_PATHS,
    SERVED_PATHS,
    FaultConfig,
    SimulatorConfig,
)
from .data import Organization
from .errors import ApiError
from .reports import (
    CONTEXT_WINDOWS,
    COST_TYPES,
    DIMENSIONS,
    FILTER_PRODUCTS,
    INFERENCE_GEOS,
    PRODUCTS,
    SPEEDS,
    TOKEN_TYPES,
    ReportData,
)
from .server import Simulator

__all__ = [
    "BASE_PATH",
    "CONTEXT_WINDOWS",
    "COST_TYPES",
    "DATA_FLOOR",
    "DIMENSIONS",
    "ENDPOINT_PATHS",
    "ENGAGEMENT_PATHS",
    "FILTER_PRODUCTS",
    "INFERENCE_GEOS",
    "PRODUCTS",
    "REPORT_PATHS",
    "SERVED_PATHS",
    "SPEEDS",
    "TOKEN_TYPES",
    "ApiError",
    "FaultConfig",
    "Organization",
    "ReportData",
    "Simulator",
    "SimulatorConfig",
    "add_arguments",
    "config_from_args",
    "serve",
]
