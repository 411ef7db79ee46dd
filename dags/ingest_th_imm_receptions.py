"""
# ingest_th_imm_receptions

Thai Immigration receptions at border checkpoints (daily cp874 CSV files, Buddhist-Era dates).

Pulls the `th_imm_receptions` feed on the schedule in `feeds/th_imm_receptions.yaml` into the landing
archive and the raw schema (task `ingest`, in the `borderwatch_build` pool: one writer of the build file
at a time), then `announce_new_rows` emits the `borderwatch://raw/th_imm_receptions` asset **only when
new rows landed** (it is skipped otherwise, and a skipped task records no asset event), which wakes
`warehouse_refresh`.
"""

from airflow.sdk import DAG

from borderwatch.orchestration.factory import make_ingest_dag

dag: DAG = make_ingest_dag("th_imm_receptions", doc_md=__doc__)
