"""Where the tasks run: this process (``local``) or a Dask cluster (``dask``).

Both run the very same task functions on the very same partitions; only the placement differs,
so both write the same rows. Dask is an optional dependency, imported only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, Protocol

from emulator.batch.plan import Plan
from emulator.batch.tasks import run_task

DASK_MISSING = (
    "the dask engine needs Dask's distributed scheduler, an optional extra: "
    "pip install 'crm-metrica-emulator[dask]'  (or: pip install 'dask[distributed]')"
)


class Executor(Protocol):
    name: str
    workers: int

    def map(self, function: Callable[[int], Any], items: Sequence[int]) -> list[Any]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Every task in turn, in this process."""

    name = "local"
    workers = 1

    def map(self, function: Callable[[int], Any], items: Sequence[int]) -> list[Any]:
        return [function(item) for item in items]

    def close(self) -> None:
        pass


class DaskExecutor:
    """Tasks on ``dask.distributed``: a scheduler at ``address``, or a local cluster of
    ``workers`` single-threaded worker processes (threads with ``processes=False``)."""

    name = "dask"

    def __init__(
        self, address: str | None = None, workers: int = 2, processes: bool = True
    ) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise RuntimeError(DASK_MISSING) from exc
        self.cluster = None
        if address is None:
            self.cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(address)
        self.workers = len(self.client.scheduler_info()["workers"])

    def map(self, function: Callable[[int], Any], items: Sequence[int]) -> list[Any]:
        futures = self.client.map(function, list(items), pure=False)
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def run_stage(executor: Executor, stage: str, plan: Plan) -> list[dict[str, Any]]:
    """``stage`` on every partition of ``plan``."""
    return executor.map(partial(run_task, stage, plan), range(plan.parts))
