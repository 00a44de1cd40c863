"""Reference emulator of Yandex Metrica's CRM data and offline-conversion uploads.

The public, in-process API: build an :class:`Emulator`, configure a counter, load visits,
upload what a CRM sends, move the virtual clock, and read decisions and reports. The HTTP
emulator (``crmemu serve``) is a thin adapter over exactly this surface.
"""

from emulator.clock import VirtualClock, WallClock
from emulator.decisions import DecisionCode
from emulator.domain import (
    Call,
    Contact,
    MergeMode,
    OfflineConversion,
    OfflineUploading,
    Order,
    OrderGoal,
    OrderStatus,
    RowError,
    SimpleOrder,
    StatusType,
    Uploading,
    UploadKind,
    Visit,
)
from emulator.engine.attribution import Attribution
from emulator.engine.config import CounterConfig, Goal
from emulator.engine.facade import Emulator
from emulator.engine.reads import OrderView
from emulator.errors import ApiError
from emulator.rules import RuleSet

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "Attribution",
    "Call",
    "Contact",
    "CounterConfig",
    "DecisionCode",
    "Emulator",
    "Goal",
    "MergeMode",
    "OfflineConversion",
    "OfflineUploading",
    "Order",
    "OrderGoal",
    "OrderStatus",
    "OrderView",
    "RowError",
    "RuleSet",
    "SimpleOrder",
    "StatusType",
    "UploadKind",
    "Uploading",
    "VirtualClock",
    "Visit",
    "WallClock",
    "__version__",
]
