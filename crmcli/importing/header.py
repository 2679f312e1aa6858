"""Finding the header among a sheet's first rows and mapping its columns to fields."""

from __future__ import annotations

from collections.abc import Iterator

from ..fields import header_key

HEADER_SCAN_ROWS = 30


def find_header(rows: Iterator[tuple[int, list]], aliases: dict[str, str], key_fields: tuple[str, ...]):
    """Find the header among the first rows: the row matching the most known fields.

    Returns (row_no, header cells, {column index: field}, rows consumed after the
    header that were read while looking). DMS exports put a title and an export
    time above the header, so the first row is not assumed.
    """
    seen: list[tuple[int, list]] = []
    best = None
    for row_no, cells in rows:
        seen.append((row_no, cells))
        mapping = map_columns(cells, aliases)
        fields = set(mapping.values())
        if fields & set(key_fields) and len(fields) >= 2:
            if best is None or len(fields) > len(set(best[2].values())):
                best = (row_no, cells, mapping, len(seen))
        if len(seen) >= HEADER_SCAN_ROWS:
            break
    if best is None:
        return None
    row_no, cells, mapping, used = best
    return row_no, cells, mapping, seen[used:]


def map_columns(cells: list, aliases: dict[str, str]) -> dict[int, str]:
    mapping: dict[int, str] = {}
    taken: set[str] = set()
    for i, cell in enumerate(cells):
        if not isinstance(cell, str) or not cell:
            continue
        fld = aliases.get(header_key(cell))
        if fld and fld not in taken:
            mapping[i] = fld
            taken.add(fld)
    # 送修人 (and its phone) with no other column naming a person: the person the order
    # names, resolved as any other (the merge tells the owner from someone else).
    if "customer_name" not in taken:
        for contact, person in (("contact_name", "customer_name"), ("contact_phone", "mobile")):
            if contact in taken and person not in taken:
                i = next(i for i, f in mapping.items() if f == contact)
                mapping[i] = person
                taken.add(person)
    return mapping


def alternate_columns(header: list, mapping: dict[int, str], aliases: dict[str, str]
                      ) -> dict[int, list[int]]:
    """Later columns that mean the same field as a mapped one (电话 and 手机 both
    mobile): {mapped column: [other columns]}, read when the mapped cell is blank."""
    first = {f: i for i, f in mapping.items()}
    out: dict[int, list[int]] = {}
    for i, cell in enumerate(header):
        if i in mapping or not isinstance(cell, str):
            continue
        fld = aliases.get(header_key(cell))
        if fld in first:
            out.setdefault(first[fld], []).append(i)
    return out
