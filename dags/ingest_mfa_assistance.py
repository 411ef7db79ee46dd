"""
# ingest_mfa_assistance

Thai MFA assistance and repatriation workbooks (monthly XLSX, two sheets).

Pulls the `mfa_assistance` feed on the schedule in `feeds/mfa_assistance.yaml` into the landing archive
and the raw schema (task `ingest`, in the `borderwatch_build` pool: one writer of the build file at a
time), then `announce_new_rows` emits the `borderwatch://raw/mfa_assistance` asset **only when new rows
landed** (it is skipped otherwise, and a skipped task records no asset event), which wakes
`warehouse_refresh`.
"""

from airflow.sdk import DAG

from borderwatch.orchestration.factory import make_ingest_dag

dag: DAG = make_ingest_dag("mfa_assistance", doc_md=__doc__)
