"""``crmcli call``: the interactive session a clerk works in, one customer at a time.

Each answer is saved through ``calls.log_call`` the moment it is complete, so
quitting (q, Ctrl-C, end of input) loses nothing; the next session starts
with what is still open, most urgent first. It reads plain lines from
standard input, so it works in any terminal and can be driven by a script.
"""

from __future__ import annotations

import sys
from datetime import date, datetime

from rich.console import Console

from . import calls, clock
from .choices import label
from .errors import CrmError
from .i18n import N_, _
from .render import reason_text, yuan
from .text import clean, clean_input, safe

KEYS = {"r": "reached", "n": "no_answer", "b": "busy", "w": "wrong_number", "x": "refused",
        "o": "not_owner"}
MENU = N_("[r]eached [n]o answer [b]usy-later [w]rong number refused[x] not [o]wner [s]kip [q]uit")


class Quit(Exception):
    pass


def draft_path():
    """Where a half-entered call waits for the next session: one per user and database."""

    from .db import data_dir

    return data_dir() / "call-draft.json"


def load_draft(db) -> dict | None:
    import json

    try:
        draft = json.loads(draft_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    row = db.conn.execute("SELECT state FROM tasks WHERE id = ?", (draft.get("task_id"),)).fetchone()
    if not row or row[0] != "open" or draft.get("db") != _db_key(db):
        return None  # logged since, or another database's
    return draft


def save_draft(db, draft: dict) -> None:
    import json

    from .files import write_text

    draft_path().parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_text(draft_path(), json.dumps({**draft, "db": _db_key(db)}, ensure_ascii=False))


def drop_draft() -> None:
    try:
        draft_path().unlink()
    except OSError:
        pass


def _db_key(db) -> str:
    row = db.conn.execute("PRAGMA database_list").fetchone()
    return str(row[2]) if row else ""


def say(console: Console, line: str) -> None:
    """One line that carries stored text: printed as data (``text.clean``), never markup."""
    console.print(clean(line), markup=False, highlight=False, emoji=False)


def ask(console: Console, prompt: str) -> str:
    """One typed line, cleaned of what arrow and function keys leave (``text.clean_input``)."""
    console.print(prompt, end="", markup=False, highlight=False)
    line = sys.stdin.readline()
    if not line:  # end of input: as good as q
        raise Quit
    return clean_input(line)


def logged_at(day: date) -> datetime:
    """The moment a session's calls are recorded: now, or, in a session for a past day
    (catching up on that day's calls), that day at the present time of day."""
    now = clock.now()
    return now if day >= now.date() else datetime.combine(day, now.time())


def run(db, settings: dict, day: date, clerk: str, console: Console) -> dict:
    """Walk today's calls; returns how many were logged and skipped."""
    done = skipped = 0
    seen: set[int] = set()
    draft = load_draft(db)
    try:
        while True:
            # Skipped calls stay open and may rank first again: fetch one more than seen.
            # A call the customer asked for later today is not offered before its time.
            now = clock.now() if day == date.today() else None
            ranked, total = calls.due_calls(db, day, settings, limit=len(seen) + 1, now=now)
            queue = [t for t in ranked if t["id"] not in seen]
            if draft is not None:  # the call left half-entered last time comes first
                first = calls.due_calls(db, day, settings)[0]
                queue = [t for t in first if t["id"] == draft["task_id"]] + queue
            if not queue:
                console.print(_("No more calls for today."), markup=False)
                break
            task = queue[0]
            seen.add(task["id"])
            # Calls skipped in this session are still open but not to go again today.
            show_card(db, task, settings, clerk, console, remaining=total - skipped)
            resume = draft if draft is not None and draft["task_id"] == task["id"] else None
            draft = None
            logged = handle(db, task, settings, clerk, console, resume, at=logged_at(day))
            if logged:
                done += 1
            else:
                skipped += 1
    except (Quit, KeyboardInterrupt):
        console.print("")
    console.print(_("Session ended: {done} calls saved, {skipped} skipped.").format(
        done=done, skipped=skipped), markup=False)
    return {"logged": done, "skipped": skipped}


def show_card(db, task: dict, settings: dict, clerk: str, console: Console, remaining: int) -> None:
    card = calls.call_card(db, task["id"])
    t = card["task"]
    console.rule(_("{kind} · task #{id} · {remaining} to go").format(
        kind=safe(label("kind", t["kind"])), id=t["id"], remaining=remaining))
    phone = task["phone"] or "-"
    line = f"{card['greeting'] or task['name'] or '?'}  {phone}"
    if task["call_time"]:
        line += _("  (prefers {time})").format(time=task["call_time"])
    say(console, line)
    for plate, model in card["vehicles"]:
        say(console, f"  {plate or '-'} {model or ''}")
    if card["last_order"]:
        o = card["last_order"]
        say(console, _("Last visit {day} {order} {type} {total}").format(
            day=o[1], order=o[0], type=o[2] or "", total=yuan(o[4]))
            + (_(" advisor {name}").format(name=o[5]) if o[5] else ""))
        if o[3]:
            say(console, _("  work done: {items}").format(items=o[3]))
    say(console, _("Why: {reason}").format(reason=reason_text(t["reason"])))
    for at, outcome, note in card["previous_calls"]:
        say(console, _("  earlier: {at} {outcome} {note}").format(
            at=at, outcome=label("outcome", outcome), note=note or ""))
    from .export import script_for_task

    say(console, _("Script: {script}").format(script=script_for_task(db, t["id"], settings, clerk)))


def handle(db, task: dict, settings: dict, clerk: str, console: Console,
           resume: dict | None = None, at: datetime | None = None) -> bool:
    """Ask for one call's outcome and answers, then save it. Answers given so far are
    kept in a draft if the session ends half-way (q, Ctrl-C, Ctrl-D), and the next
    session starts with that call, asking only what was not answered yet."""
    if resume is not None:
        outcome = resume["outcome"]
        say(console, _("Resuming the call left half-entered: {outcome}, answers so far: {answers}"
                       ).format(outcome=label("outcome", outcome),
                                answers=resume.get("answers") or "-"))
    else:
        while True:
            key = ask(console, _(MENU) + "? ").lower()
            if key == "q":
                raise Quit
            if key == "s":
                return False
            if key in KEYS:
                break
            console.print(_("Type one of the letters shown."), markup=False)
        outcome = KEYS[key]
    answers: dict = dict((resume or {}).get("answers") or {})
    scores: dict[str, int] = {}
    note = complaint = category = reason = resolution_ok = None
    call_at = appointment = elsewhere = None
    if outcome == "reached" and task["kind"] == calls.FOLLOWUP_KIND:
        # The complaint's follow-up asks one thing: is the customer satisfied with the resolution?
        try:
            while answers.get("resolution_ok") is None:
                answer = ask(console, _("Satisfied with the resolution? (y/n): ")).lower()
                answers["resolution_ok"] = {"y": True, "n": False, "是": True, "否": False}.get(answer)
            if "note" not in answers:
                answers["note"] = ask(console, _("Note (Enter for none): ")) or None
        except (Quit, KeyboardInterrupt):
            _keep(db, task, outcome, answers, console)
        resolution_ok, note = answers["resolution_ok"], answers["note"]
    elif outcome == "reached" and task["kind"] in calls.REMINDER_KINDS:
        # A reminder asks what fits the customer, not the six satisfaction questions.
        try:
            while "appointment" not in answers:
                text = ask(console, _("Booked a visit? When (YYYY-MM-DD HH:MM, Enter = not booked): "))
                try:
                    calls.parse_when(text) if text else None
                    answers["appointment"] = text or None
                except CrmError as exc:
                    say(console, exc.message)
            if not answers["appointment"] and "elsewhere" not in answers:
                answers["elsewhere"] = ask(console,
                                           _("Done elsewhere? (what/where, Enter = no): ")) or None
            if task["kind"] == "recovery":
                reasons = settings["lost"]["reasons"]
                while "reason" not in answers:
                    given = ask(console, _("Why they left ({reasons}, Enter to skip): ").format(
                        reasons="/".join(reasons))) or None
                    if given is None or given in reasons:
                        answers["reason"] = given
            if "note" not in answers:
                answers["note"] = ask(console, _("Note (Enter for none): ")) or None
        except (Quit, KeyboardInterrupt):
            _keep(db, task, outcome, answers, console)
        appointment = calls.parse_when(answers["appointment"]) if answers["appointment"] else None
        elsewhere, note = answers.get("elsewhere"), answers["note"]
        reason = answers.get("reason")
        if appointment:
            outcome = "booked"
        elif elsewhere:
            outcome = "done_elsewhere"
    elif outcome == "reached":
        lo, hi = settings["calls"]["score_min"], settings["calls"]["score_max"]
        try:
            for q in calls.QUESTIONS:
                if q not in answers:
                    answers[q] = _score(console, q, lo, hi)
            if "complaint" not in answers:
                answers["complaint"] = ask(console, _("Complaint (Enter for none): ")) or None
            if answers["complaint"] and "category" not in answers:
                cats = settings["complaints"]["categories"]
                answers["category"] = ask(console, _("Category ({categories}): ").format(
                    categories="/".join(cats))) or "其他"
            if "note" not in answers:
                answers["note"] = ask(console, _("Note (Enter for none): ")) or None
        except (Quit, KeyboardInterrupt):
            _keep(db, task, outcome, answers, console)
        scores = {q: answers[q] for q in calls.QUESTIONS}
        complaint, category, note = answers["complaint"], answers.get("category"), answers["note"]
    elif outcome == "busy":
        # The outcome is kept as soon as it is known: a session ended at the question of
        # when to call back starts the next time at that question.
        try:
            while "call_at" not in answers:
                text = ask(console,
                           _("Call back when (YYYY-MM-DD HH:MM, Enter = next working day): "))
                try:
                    calls.parse_when(text) if text else None
                    answers["call_at"] = text or None
                except CrmError as exc:
                    say(console, exc.message)
        except (Quit, KeyboardInterrupt):
            _keep(db, task, outcome, answers, console)
        call_at = calls.parse_when(answers["call_at"]) if answers["call_at"] else None
    try:
        result = calls.log_call(db, task["id"], outcome, settings, by=clerk, at=at or clock.now(),
                                scores=scores, note=note, complaint=complaint, category=category,
                                call_at=call_at, appointment=appointment, elsewhere=elsewhere,
                                lost_reason=reason, resolution_ok=resolution_ok)
    except CrmError as exc:
        say(console, _("Not saved: {error}").format(error=exc.message))
        return False
    drop_draft()
    console.print(_("Saved: {outcome} -> {state}").format(
        outcome=label("outcome", outcome), state=label("state", result["task_state"]))
                  + (_(", complaint #{id}").format(id=result["complaint_id"])
                     if result.get("complaint_id") else ""),
                  markup=False, highlight=False)
    return True


def _keep(db, task: dict, outcome: str, answers: dict, console: Console) -> None:
    """The session ends half-way through a call: keep what was answered, then quit."""
    save_draft(db, {"task_id": task["id"], "outcome": outcome, "answers": answers})
    say(console, _("Kept the answers so far for task #{id}: the next `crmcli call` goes on "
                   "from here.").format(id=task["id"]))
    raise Quit


def _score(console: Console, question: str, lo: int, hi: int) -> int | None:
    while True:
        text = ask(console, _("  {question} ({lo}-{hi}, Enter to skip): ").format(
            question=label("question", question), lo=lo, hi=hi))
        if not text:
            return None
        if text.isdigit() and lo <= int(text) <= hi:
            return int(text)
        console.print(_("  a whole number {lo}-{hi}, please").format(lo=lo, hi=hi), markup=False)
