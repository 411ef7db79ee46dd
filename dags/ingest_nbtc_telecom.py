"""
# ingest_nbtc_telecom

NBTC telecom enforcement figures (monthly NDJSON files).

Pulls the `nbtc_telecom` feed on the schedule in `feeds/nbtc_telecom.yaml` into the landing archive and
the raw schema (task `ingest`, in the `borderwatch_build` pool: one writer of the build file at a time),
then `announce_new_rows` emits the `borderwatch://raw/nbtc_telecom` asset **only when new rows landed**
(it is skipped otherwise, and a skipped task records no asset event), which wakes `warehouse_refresh`.
"""

from airflow.sdk import DAG

from borderwatch.orchestration.factory import make_ingest_dag

dag: DAG = make_ingest_dag("nbtc_telecom", doc_md=__doc__)
