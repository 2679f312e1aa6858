"""What an import reports: each row's problems, each parsed row, the file's result."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


@dataclass(slots=True)
class Problem:
    row_no: int
    severity: str  # "rejected" | "flagged"
    field: str | None
    column: str | None
    value: str | None
    reason: str
    order_no: str | None = None
    customer_id: int | None = None
    vehicle_id: int | None = None
    plate: str | None = None  # the row's plate, or its vehicle's: what the clerk looks up


@dataclass(slots=True)
class ParsedRow:
    row_no: int
    cells: list | None  # kept only for a row with problems (for --rejects)
    # the values of parse_rows' record fields; a dict while _row_rules runs, None once
    # a row without problems is merged
    record: tuple | None
    problems: list[Problem] | tuple  # () for a clean row
    rejected: bool = False
    fp: bytes | None = None  # the row's fingerprint (orders), stored when it merges clean


@dataclass
class ImportResult:
    file: str
    kind: str
    status: str = "done"  # done | same-file | dry-run | refused
    message: str = ""
    import_id: int | None = None
    format: str = ""
    sheet: str = ""
    header_row: int = 0
    checksum: str = ""
    mapping: list[tuple[str, str]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0
    rejected: int = 0
    skipped: int = 0
    superseded: int = 0
    problems: list[Problem] = field(default_factory=list)
    verdicts: list[tuple[int, str]] = field(default_factory=list)
    header: list = field(default_factory=list)
    problem_rows: dict[int, list] = field(default_factory=dict)
    aliases_mark: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.status == "refused":
            return 2
        return 1 if self.rejected else 0

    def summary(self) -> dict:
        """The result for scripts (--json): counts, mapping, problems; not the raw rows."""
        skip = {"header", "problem_rows", "verdicts", "problems", "mapping", "aliases_mark"}
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}
        d["mapping"] = [{"column": c, "field": f} for c, f in self.mapping]
        from ..privacy import mask_value

        d["problems"] = [{k: getattr(p, k) for k in Problem.__slots__} for p in self.problems]
        for p in d["problems"]:  # a flagged ID number is masked like a valid one
            p["value"] = mask_value(p.get("field"), p.get("value"))
        d["exit_code"] = self.exit_code
        return d


def note_problems(result: ImportResult, parsed: list[ParsedRow]) -> None:
    for pr in parsed:
        if pr.problems:
            result.problems.extend(pr.problems)
            result.problem_rows[pr.row_no] = pr.cells


COUNTS = ("rows_read", "inserted", "updated", "unchanged", "flagged", "rejected", "skipped",
          "superseded")


def run_summary(files: list[dict]) -> dict:
    """What ``import ... --json`` prints: one shape whether one file or several were given.

    The counts (``COUNTS``), ``problems`` (each naming its ``file``), ``warnings`` and
    ``exit_code`` (the worst) are for the whole run; ``files`` has each file's own
    summary (``ImportResult.summary``, or a refused file's file/status/message/exit_code).
    ``status`` is the files' common status, else ``mixed``.

    >>> s = run_summary([{"file": "a.xlsx", "kind": "orders", "status": "done", "inserted": 2,
    ...                   "problems": [{"row_no": 3}], "exit_code": 0},
    ...                  {"file": "b.csv", "kind": "orders", "status": "refused", "exit_code": 2}])
    >>> s["inserted"], s["status"], s["exit_code"], s["problems"], len(s["files"])
    (2, 'mixed', 2, [{'row_no': 3, 'file': 'a.xlsx'}], 2)
    """
    statuses = {f["status"] for f in files}
    return {
        "kind": files[0]["kind"] if files else None,
        "status": statuses.pop() if len(statuses) == 1 else "mixed",
        **{k: sum(f.get(k) or 0 for f in files) for k in COUNTS},
        "problems": [dict(p, file=f["file"]) for f in files for p in f.get("problems", ())],
        "warnings": [f"{f['file']}: {w}" for f in files for w in f.get("warnings", ())],
        "exit_code": max((f["exit_code"] for f in files), default=0),
        "files": files,
    }
