"""Scale-out: simulated worlds as partitioned Parquet, and the rules applied partition by
partition, in one process or on Dask (``crmemu simulate --parquet``, ``crmemu batch``).

    from emulator.batch.world import write_world   # simulate, streaming, into a Parquet world
    from emulator.batch.run import run_batch       # apply the rules; results as Parquet

========== ==============================================================================
module     what lives there
========== ==============================================================================
layout     the datasets of a world, their schemas and hash partitions
world      writing a world while the simulation runs; intake: uploads read as the engine does
subjects   CRM rows split by customer group, offline rows by identifier
plan       the counter and what the service does with each upload
stages     the key shuffles: which visits each subject partition needs
replay     the engine itself on one subject partition; the result datasets
exchange   the files a stage sends the next; tasks, executors, run: running it all
========== ==============================================================================
"""
