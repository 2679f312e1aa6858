"""Stored reasons in the clerk's language: why a task is due, why a customer is in a class.

Rules, the planner and classification write their reasons into the database in one
language (English), so a database, its JSON and its history read the same whoever
ran the planning. They are shown in this run's language here: each template below is
the shape of one kind of reason (``{placeholders}`` for the values); a stored reason
that fits a template is re-said with that template's translation from the catalog::

    "交强险 expires 2026-11-26"  ->  "交强险 2026-11-26 到期"

A reason that fits no template (written by an older release, or typed by a person)
is shown as stored. ``tests/test_reasons.py`` plans the shipped sample and checks that
every reason the rules wrote there fits one, so a rule whose wording changes without
its template fails the suite.
"""

from __future__ import annotations

import re

from .i18n import N_, _, language

TEMPLATES: tuple[str, ...] = (
    # rules.py: the care contacts
    N_("new-car care SMS: delivered {day}"),
    N_("delivery day-3 call: delivered {day}"),
    N_("delivery day-7 questionnaire: delivered {day}"),
    N_("post-repair callback: {order} settled {day} ({type})"),
    N_("post-repair callback: {order} settled {day}"),
    N_("declined advice on {order} ({day}): {advice}"),
    N_("first maintenance due {due} or at {km} km: delivered {delivered}, ~{per_day} km/day"
       " ({basis}), {km2} km predicted on {by_km}; {rule}"),
    N_("interval {months} months / {km} km"),
    N_("regular maintenance due {due}: last {last} (no mileage recorded); interval {months}"
       " months"),
    N_("regular maintenance due {due} or at {km} km: last {last} at {last_km} km, ~{per_day}"
       " km/day (default), predicted {predicted} km on {on}; interval {months} months /"
       " {interval_km} km"),
    N_("regular maintenance due {due} or at {km} km: last {last} at {last_km} km, ~{per_day}"
       " km/day, predicted {predicted} km on {on}; interval {months} months / {interval_km} km"),
    N_("warranty ends {day}: come for a check before it ends"),
    N_("warranty point {months} months / {km} km reached about {day} (~{per_day} km/day):"
       " come for a check before it ends"),
    N_("交强险 expires {day}"),
    N_("商业险 expires {day}"),
    N_("annual inspection due {day}"),
    N_("birthday (born {day}) and lunar birthday ({lunar})"),
    N_("birthday (born {day})"),
    N_("lunar birthday ({lunar})"),
    N_("{holiday} greeting"),
    N_("lost customer: last visit {day}, {days} days before this call"),
    # planner.py and calls.py: tasks that follow a call
    N_("booked for {when} but {plate} did not come: ask what happened and book again"),
    N_("thank-you SMS: {text}"),
    # classify.py: why a customer is in a class, and how a vehicle's age is known
    N_("no visit and no delivery on file"),
    N_("new customer: delivered {day}, {days} days ago, no visit yet"),
    N_("never came back: delivered {day}, {days} days ago"),
    N_("no visit since delivery {day}, {days} days ago"),
    N_("last visit {day}, {days} days ago"),
    N_("new owner: delivered {day}, {days} days ago; only free/warranty work so far ({visits}"
       " visits)"),
    N_("only warranty/free work in the last {months} months ({visits} visits)"),
    N_("last paid visit {day}, {days} days ago"),
    N_("no paid visit on file"),
    N_("{visits} paid visits, ¥{spend} in {months} months, loyalty {loyalty} ({why})"),
    N_("{done} maintenance here for {due} due ({basis})"),
    N_("{km} km driven"),
    N_("{months} months"),
    N_("{facts}; not A: {missing}"),
    N_("fewer than {count} paid visits"),
    N_("under ¥{amount}"),
    N_("loyalty under {value}"),
    N_("delivered {day}"),
    N_("bought {day}"),
    N_("unknown: no delivery or purchase date, no valid VIN"),
    N_("model year {year} (VIN)"),
    # planner.py and calls.py: why a task is in its state
    N_("combined into task {task}"),
    N_("combined into task {task}, which ended {why}"),
    N_("back on its own: task {task} ended {why}"),
    N_("moved to {day}: the customer was contacted within {days} days"),
    N_("not done by {day}"),
    N_("reached on {when}"),
    N_("booked for {when}"),
    N_("done elsewhere: {what}"),
    N_("no answer after {count} tries"),
    N_("no answer ({count} of {tries} tries)"),
    N_("the customer refused callbacks"),
    N_("the vehicle has no owner on file any more"),
    N_("the vehicle now belongs to customer #{id}"),
    N_("came in for maintenance on {day} ({order}) before the reminder"),
    N_("the car came in on {day}"),
    N_("renewed: the expiry date on file is now {day}"),
    N_("no expiry date on file"),
    N_("inspected: the inspection date on file is now {day}"),
    N_("the customer came back"),
    N_("no longer applies after the latest data"),
    N_("the customer declines callbacks"),
    N_("wrong number"),
    N_("the person reached is not the owner"),
    N_("unreachable ({why})"),
    N_("customer asked to be called {when}"),
    N_("done elsewhere: the customer had it done elsewhere"),
    N_("complaint #{id} closed by {by}"),
    # importing/ and normalize.py: why an imported cell or row is flagged or rejected
    N_("not a mobile or landline number"),
    N_("check digit wrong (expected {digit})"),
    N_("order date: {why}"),
    N_("not a real date: {value}"),
    N_("not a date"),
    N_("year {year} outside {range}"),
    N_("not a date: number {value} is not an Excel date in {range}"),
    N_("in the future: {day}"),
    N_("no order number"),
    N_("no order date"),
    N_("no VIN and no plate: the vehicle cannot be identified"),
    N_("no real delivery date ({why}): a pending sale is not a delivery"),
    N_("no delivery date: a pending sale is not a delivery"),
    N_("not a plate number"),
    N_("does not start with a province abbreviation"),
    N_("contains I or O"),
    N_("wrong length ({count} characters; 7, or 8 for new-energy)"),
    N_("not 17 characters of A-Z (no I, O, Q) and 0-9"),
    N_("not a VIN"),
    N_("wrong length ({count} characters, 17 expected)"),
    N_("contains I, O or Q"),
    N_("contains characters other than letters and digits"),
    N_("negative mileage"),
    N_("more than {km} km"),
    N_("not a mileage"),
    N_("not an amount"),
    N_("stored as a number by Excel: the last digits are lost"),
    N_("not an ID number"),
    N_("wrong length ({count} characters, 18 expected)"),
    N_("not digits with a final check character 0-9 or X"),
    N_("check character wrong (expected {digit})"),
    N_("birth year {year} outside {range}"),
    N_("birthday is not a real date: {value}"),
    N_("not a gender"),
    N_("unknown vehicle usage"),
    N_("not a name"),
    N_("not a lunar month-day"),
    N_("lunar birthday not in a form like 3-5, 闰4月30 or 八月十五"),
    N_("lunar month must be 1-12 and day 1-30"),
    N_("totals row"),
    N_("header repeated inside the data"),
    N_("plate belongs to another vehicle ({vin}); not moved to VIN {other}"),
    # importing/merge.py: each row's verdict
    N_("inserted"),
    N_("updated"),
    N_("unchanged"),
    N_("inserted (flagged)"),
    N_("updated (flagged)"),
    N_("unchanged (flagged)"),
    N_("rejected: {reason}"),
    N_("skipped: {reason}"),
    N_("superseded by row {row} (same order number)"),
    N_("superseded by row {row} (same vehicle)"),
    # the change log: why a field changed
    N_("clerk edit"),
    N_("merge #{merge}: {kind} #{merged} merged into #{kept}"),
    N_("merge #{merge} undone: {kind} #{id} is its own record again"),
    N_("the export now says {value} (it said {old} before): new information replaces the"
       " {source} of {when}"),
    N_("refused on the call for task #{task}"),
    N_("replied {reply} to an SMS ({file})"),
    # broadcast.py: why a customer is left out of a broadcast
    N_("opted out"),
    N_("no mobile for SMS"),
    N_("contacted within {days} days"),
    # stats.py: what happened since a follow-up call
    N_("{count} visit(s), last {day}"),
    N_("{count} complaint(s): {states}"),
    N_("nothing yet"),
)
# Values inside a reason that are words rather than data.
PHRASES = (N_("its own"), N_("default"), N_("the dates on file"), N_("the car"),
           N_("customer"), N_("vehicle"))

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# Per template: its literal pieces (a text must contain them all, the first at its start
# and the last at its end, before a regex is tried) and its regex, compiled when needed.
_shapes: list[list] | None = None


def _templates() -> list[list]:
    global _shapes
    if _shapes is None:
        out = []
        for t in TEMPLATES:
            parts = _PLACEHOLDER.split(t)  # literal, name, literal, name, ...
            out.append([t, parts[0::2], None])
        # The most specific shape first: "... settled {day} ({type})" before "... {day}".
        out.sort(key=lambda shape: -sum(map(len, shape[1])))
        _shapes = out
    return _shapes


def _match(shape: list, text: str) -> re.Match | None:
    template, literals, rx = shape
    if not (text.startswith(literals[0]) and text.endswith(literals[-1])
            and all(piece in text for piece in literals[1:-1])):
        return None
    if rx is None:
        parts = _PLACEHOLDER.split(template)
        rx = shape[2] = re.compile("".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)),
            re.DOTALL)
    return rx.fullmatch(text)


_WORDS = re.compile("[A-Za-z]{2}")


def translate(text: str) -> str:
    """``text`` in this run's language when it fits a template, else as it is."""
    if not text or language() == "en":
        return text
    return _translate(text)


def _translate(text: str) -> str:
    if not _WORDS.search(text):  # a date, a number, a name: data, never a reason
        return text
    for shape in _templates():
        m = _match(shape, text)
        if m:
            template = shape[0]
            said = _(template)
            if said == template:
                return text
            return said.format(**{k: _value(k, v) for k, v in m.groupdict().items()})
    return text


# Placeholders whose value is a key (or a list of keys) of one of choices' tables.
CHOICES = {"type": "service_type", "states": "complaint_state"}


def _value(name: str, v: str) -> str:
    """A value inside a reason: a word, a key, another reason, a list of reasons, or data."""
    if v in PHRASES:
        return _(v)
    if name in CHOICES:
        from .choices import label

        return "，".join(label(CHOICES[name], key) for key in v.split(","))
    if ", " in v:  # "fewer than 3 paid visits, under ¥5,000": each part a reason
        parts = [_translate(p) for p in v.split(", ")]
        if all(p != q for p, q in zip(parts, v.split(", "))):
            return "，".join(parts)
    return _translate(v)
