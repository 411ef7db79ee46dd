"""
# ingest_kh_ncct_raids

Cambodia's National Committee for Counter Trafficking raid reports (daily CSV files, one line per report x
nationality/sex/age-group cell, Khmer digits and labels).

Pulls the `kh_ncct_raids` feed on the schedule in `feeds/kh_ncct_raids.yaml` into the landing archive and
the raw schema (task `ingest`, in the `borderwatch_build` pool: one writer of the build file at a time),
then `announce_new_rows` emits the `borderwatch://raw/kh_ncct_raids` asset **only when new rows landed**
(it is skipped otherwise, and a skipped task records no asset event), which wakes `warehouse_refresh`.
"""

from airflow.sdk import DAG

from borderwatch.orchestration.factory import make_ingest_dag

dag: DAG = make_ingest_dag("kh_ncct_raids", doc_md=__doc__)
