"""`samen export`: the digest's figures and the lists behind them, for the steering group (verantwoorden).

The export shows what the exporting role may see: `--als U…` exports as that member (coordinators and
admins only: `Action.EXPORT_REPORT`), listing the instruments of finished interventions their partner
may see and only counting the others; without `--als` it is the partnership's view, the same as the
weekly digest in the partnership channel. Never a restricted field. Every export is audited, with its
period, format, purpose and row counts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

from sqlmodel import Session

from bot import audit
from bot.alerts.models import SERIOUSNESS_LABELS, Seriousness
from bot.authz import Action, Principal, SystemActor, authorize
from bot.digest.figures import DigestFigures, figures
from bot.digest.timing import Period
from bot.i18n import N_, format_duration, t
from bot.vocabulary import (
    CATEGORY_LABELS,
    FOCUS_LABELS,
    INCIDENT_TYPE_LABELS,
    INSTRUMENT_TYPE_LABELS,
    IncidentType,
    InstrumentType,
)

FORMATS: Final = ("csv", "xlsx", "md")
DEFAULT_PURPOSE: Final = "verantwoording aan de stuurgroep (samen export)"
NOT_SHOWN: Final = N_("(another partner's: not shown)")


@dataclass(frozen=True)
class Table:
    name: str  # file and sheet name: ascii, stable
    title: str  # message id
    columns: tuple[str, ...]  # message ids
    rows: list[tuple[Any, ...]]


@dataclass(frozen=True)
class Report:
    period: Period
    language: str
    tables: list[Table]

    def t(self, message: str) -> str:
        return t(self.language, message)


def build(
    session: Session, *, actor: Principal, period: Period, language: str, export_format: str, purpose: str
) -> Report:
    """The report for `actor`; audited in the caller's transaction."""
    authorize(actor, Action.EXPORT_REPORT)
    viewer = None if isinstance(actor, SystemActor) else actor
    found = figures(session, period, viewer=viewer)
    report = Report(period, language, tables(found, language))
    audit.record(
        session,
        actor=actor,
        action="report.exported",
        object_type="report",
        object_id=f"{period.first_day.isoformat()}..{period.last_day.isoformat()}",
        purpose=purpose,
        details={
            "format": export_format,
            "view": "partnership" if viewer is None else "member",
            "rows": {table.name: len(table.rows) for table in report.tables},
        },
    )
    return report


def tables(found: DigestFigures, language: str) -> list[Table]:
    def tr(message: str) -> str:
        return t(language, message)

    def seconds(value: float | None) -> str:
        return "" if value is None else format_duration(value, language)

    shown = tr(NOT_SHOWN)
    checkins = found.checkins
    summary = [
        (tr(N_("Period")), found.period.label),
        (tr(N_("New signals")), found.signals_total),
        (tr(N_("Cases started")), found.cases_started),
        (tr(N_("Cases closed")), found.cases_closed),
        (tr(N_("Interventions carried out")), len(found.finished)),
        (tr(N_("Successes")), len(found.successes)),
        (tr(N_("Open interventions")), sum(p.open for p in found.partners)),
        (tr(N_("Past their window")), found.overdue_total),
        (tr(N_("Lessons")), len(found.lessons)),
        (tr(N_("Backup alerts")), len(found.real_alerts)),
        (tr(N_("Drills")), len(found.drills)),
    ]
    if checkins is not None:
        summary += [
            (tr(N_("Check-in moments")), checkins.moments),
            (tr(N_("Check-in answers expected")), checkins.expected),
            (tr(N_("Check-in answers given")), checkins.answered),
        ]
    return [
        Table("figures", N_("Figures"), (N_("Figure"), N_("Value")), summary),
        Table(
            "signals",
            N_("New signals by category"),
            (N_("Category"), N_("Number")),
            [(tr(CATEGORY_LABELS[c]), n) for c, n in found.signals_by_category],
        ),
        Table(
            "partners",
            N_("Open interventions per partner"),
            (N_("Partner"), N_("Open"), N_("Capacity"), N_("Past their window")),
            [(p.partner, p.open, p.capacity, p.overdue) for p in found.partners],
        ),
        Table(
            "interventions",
            N_("Interventions carried out"),
            (
                N_("Code"),
                N_("Case"),
                N_("Partner"),
                N_("Focus element"),
                N_("Instrument type"),
                N_("Instrument"),
                N_("Carried out on"),
                N_("Success"),
            ),
            [
                (
                    item.code,
                    item.case_id,
                    item.partner,
                    tr(FOCUS_LABELS[item.focus]),
                    tr(INSTRUMENT_TYPE_LABELS[InstrumentType(item.instrument_type)]),
                    item.instrument if item.instrument is not None else shown,
                    item.done_at.astimezone(found.period.zone).date().isoformat(),
                    tr(N_("yes")) if item.success else (tr(N_("no")) if item.success is False else ""),
                )
                for item in found.finished
            ],
        ),
        Table(
            "lessons",
            N_("Lessons"),
            (N_("Partner"), N_("Focus element"), N_("Lesson"), N_("Date")),
            [
                (
                    item.partner,
                    tr(FOCUS_LABELS[item.focus]),
                    item.text,
                    item.at.astimezone(found.period.zone).date().isoformat(),
                )
                for item in found.lessons
            ],
        ),
        Table(
            "alerts",
            N_("Backup alerts and drills"),
            (
                N_("Code"),
                N_("Drill"),
                N_("Partner"),
                N_("Type"),
                N_("Seriousness"),
                N_("Raised at"),
                N_("Acknowledged"),
                N_("Partners"),
                N_("First acknowledgement (min:s)"),
                N_("All acknowledged (min:s)"),
            ),
            [
                (
                    a.code,
                    tr(N_("yes")) if a.drill else tr(N_("no")),
                    a.partner,
                    tr(INCIDENT_TYPE_LABELS[IncidentType(a.incident_type)]),
                    tr(SERIOUSNESS_LABELS[Seriousness(a.seriousness)]),
                    a.raised_at.astimezone(found.period.zone).strftime("%Y-%m-%d %H:%M"),
                    a.acknowledged,
                    a.total,
                    seconds(a.first_ack_seconds),
                    seconds(a.all_ack_seconds),
                )
                for a in found.alerts
            ],
        ),
        Table(
            "goals",
            N_("Progress on goals"),
            (N_("Partner"), N_("Focus element"), N_("Goal"), N_("Done"), N_("Target"), N_("Percent")),
            [
                (g.partner, tr(FOCUS_LABELS[g.focus]), g.description, g.done, g.target, g.percent)
                for g in found.goals
            ],
        ),
    ]


def _cell(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is written with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(report: Report, directory: Path) -> list[Path]:
    """One CSV file per table (UTF-8 with BOM, so that Excel reads the accents) in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in report.tables:
        path = directory / f"{table.name}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow([report.t(c) for c in table.columns])
            writer.writerows([[_cell(v) for v in row] for row in table.rows])
        written.append(path)
    return written


def write_xlsx(report: Report, path: Path) -> list[Path]:
    """One workbook, one sheet per table."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in report.tables:
        sheet = workbook.create_sheet(report.t(table.title)[:31])
        sheet.append([report.t(c) for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
        for index, column in enumerate(table.columns, start=1):
            width = max([len(report.t(column))] + [len(str(r[index - 1])) for r in table.rows] or [10])
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(60, width + 2)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return [path]


def _md(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def write_md(report: Report, out: TextIO) -> None:
    out.write(f"# {report.t(N_('Samen: report for the steering group'))}\n\n")
    out.write(f"{report.t(N_('Period'))}: {report.period.label}\n")
    for table in report.tables:
        out.write(f"\n## {report.t(table.title)}\n\n")
        if not table.rows:
            out.write(f"{report.t(N_('Nothing in this period.'))}\n")
            continue
        out.write("| " + " | ".join(_md(report.t(c)) for c in table.columns) + " |\n")
        out.write("|" + "---|" * len(table.columns) + "\n")
        for row in table.rows:
            out.write("| " + " | ".join(_md(v) for v in row) + " |\n")


def write(report: Report, export_format: str, target: Path | None) -> list[Path] | str:
    """Write the report; the paths written, or the Markdown text when `md` goes to standard output."""
    writers: dict[str, Callable[[], list[Path] | str]] = {
        "csv": lambda: write_csv(report, target or Path(_default_name(report, "csv"))),
        "xlsx": lambda: write_xlsx(report, target or Path(_default_name(report, "xlsx"))),
        "md": lambda: _md_to(report, target),
    }
    return writers[export_format]()


def _md_to(report: Report, target: Path | None) -> list[Path] | str:
    buffer = io.StringIO()
    write_md(report, buffer)
    if target is None:
        return buffer.getvalue()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(buffer.getvalue(), encoding="utf-8")
    return [target]


def _default_name(report: Report, extension: str) -> str:
    stem = f"samen-rapport-{report.period.first_day.isoformat()}-{report.period.last_day.isoformat()}"
    return stem if extension == "csv" else f"{stem}.{extension}"
