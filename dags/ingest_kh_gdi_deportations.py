"""
# ingest_kh_gdi_deportations

Cambodian General Department of Immigration deportation bulletins (daily CSV files, Khmer digits).

Pulls the `kh_gdi_deportations` feed on the schedule in `feeds/kh_gdi_deportations.yaml` into the landing
archive and the raw schema (task `ingest`, in the `borderwatch_build` pool: one writer of the build file
at a time), then `announce_new_rows` emits the `borderwatch://raw/kh_gdi_deportations` asset **only when
new rows landed** (it is skipped otherwise, and a skipped task records no asset event), which wakes
`warehouse_refresh`.
"""

from airflow.sdk import DAG

from borderwatch.orchestration.factory import make_ingest_dag

dag: DAG = make_ingest_dag("kh_gdi_deportations", doc_md=__doc__)
