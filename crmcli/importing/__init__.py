"""Importing DMS exports: file -> header -> parse -> sieve -> merge, one transaction a file.

The stages, each a module (``run`` drives them for one file)::

    file --excel.open_sheets--> raw rows --header.find_header--> column mapping
         --parse.parse_rows (sieve.RowSieve holds back unchanged rows)--> ParsedRow
         --merge.merge_rows (inside BEGIN IMMEDIATE)--> inserts / updates / audit
         --run.import_file--> ImportResult
"""

from .merge import Merger, same_person
from .parse import parse_lunar_birthday
from .result import ImportResult, ParsedRow, Problem, run_summary
from .run import import_file, record_refusal, rejects_sheet

__all__ = ["ImportResult", "Merger", "ParsedRow", "Problem", "import_file", "parse_lunar_birthday",
           "record_refusal", "rejects_sheet", "run_summary", "same_person"]
