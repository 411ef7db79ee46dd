"""Airflow wiring for BorderWatch: DAG factory, inbox trigger, notifier, task bodies and local runners.

Nothing here is imported by the library; the DAG files in ``dags/`` import ``factory`` (airflow.sdk and the
standard library only) so parsing stays fast, and everything heavier is imported inside task bodies.
"""
