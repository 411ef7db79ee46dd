"""
# ingest_rtp_raids

Royal Thai Police raid operations (JSON REST API, incremental on `updated_since`, revisions and
tombstones).

Pulls the `rtp_raids` feed on the schedule in `feeds/rtp_raids.yaml` into the landing archive and the raw
schema (task `ingest`, in the `borderwatch_build` pool: one writer of the build file at a time), then
`announce_new_rows` emits the `borderwatch://raw/rtp_raids` asset **only when new rows landed** (it is
skipped otherwise, and a skipped task records no asset event), which wakes `warehouse_refresh`.
"""

from airflow.sdk import DAG

from borderwatch.orchestration.factory import make_ingest_dag

dag: DAG = make_ingest_dag("rtp_raids", doc_md=__doc__)
