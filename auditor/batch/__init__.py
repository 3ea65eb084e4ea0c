"""Many captures at once (`vcaudit batch`): the inputs and their session names (inputs), one
capture's analysis as a worker runs it (job), running them here, in local worker processes or
on a Dask cluster (runners), the batch's Parquet dataset (dataset), and the batch folder with
its record and combined summary (folder).

A batch runs sessions, so it sits above auditor.session, beside auditor.live.
May import: auditor.session, auditor.compare and below; `distributed` only when a cluster is
asked for. Not auditor.live or the command line.
"""
