"""The publication report: an offline HTML page of headline figures and charts, one per published version."""

from borderwatch.report.publication import ReportError, gather_report, render_html, render_publication_report

__all__ = ["ReportError", "gather_report", "render_html", "render_publication_report"]
