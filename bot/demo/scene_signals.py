"""Demo scene: the gemeente registers a signal about a loods on a business park; the politie registers one
on the same subject; both hear there is a match (codes and partner names only); the RIEC coordinator weighs
the signal and makes it a case in the shared work queue.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlmodel import select

from bot.authz import CLI_ACTOR
from bot.partners.importer import import_partners
from bot.signals.models import Signal, SignalSubject
from bot.subjects.models import Subject

if TYPE_CHECKING:
    from bot.demo import Stage
    from slackdouble import Call

TEAM = "T0SAMEN"
CASE_TITLE = {"nl": "Loods De Hoogt", "en": "Warehouse De Hoogt"}  # also the interventions scene's case


def _partnership(stage: Stage) -> str:
    """The partners this scene needs; importing adds and never removes, so other scenes' set-up stays."""
    people = stage.people
    kinds = {"fatima": "GEMEENTE", "jan": "POLITIE", "ilse": "BELASTINGDIENST", "ruud": "RIEC"}
    lines = [f"team: {TEAM}", "partners:"]
    for key, kind in kinds.items():
        person = people[key]
        role = ", role: coordinator" if key == "ruud" else ""
        lines += [
            f"  - name: {person.partner}",
            f"    type: {kind}",
            "    members:",
            f"      - {{user: {person.user_id}, name: {person.name}{role}}}",
        ]
    return "\n".join(lines) + "\n"


def scene_signals(stage: Stage) -> None:
    nl = stage.language == "nl"
    stage.title(
        "Signaleren: samen wegen, alleen zien wat je mag"
        if nl
        else "Signals: weigh together, see only what you may"
    )
    with stage.services.session() as session:
        import_partners(session, actor=CLI_ACTOR, source=_partnership(stage), purpose="demo: the partnership")
    channel = stage.services.settings.samen_partnership_channel
    assert channel, "the demo sets SAMEN_PARTNERSHIP_CHANNEL"
    fatima, ruud = stage.people["fatima"], stage.people["ruud"]

    stage.at("2026-12-07 08:30")
    stage.narrate(
        "Maandag 7 december, 08:30. Een toezichthouder van de gemeente zag dit weekend 's nachts busjes "
        "bij een loods op een bedrijventerrein; Fatima legt het vast."
        if nl
        else "Monday 7 December, 08:30. A municipal inspector saw vans at night this weekend at a "
        "warehouse on a business park; Fatima records it."
    )
    loods = (
        "Loods op bedrijventerrein De Hoogt: 's nachts busjes, ramen afgeplakt"
        if nl
        else "Warehouse on De Hoogt business park: vans at night, windows covered"
    )
    _register(
        stage,
        "fatima",
        loods,
        {
            "category": "VASTGOED",
            "new_kind": "LOCATIE",
            "new_identity": "Loods De Hoogt 7, Rotterdam (eigenaar: Hoogt Vastgoed BV)"
            if nl
            else "Warehouse De Hoogt 7, Rotterdam (owner: Hoogt Vastgoed BV)",
            "location": "bedrijventerrein De Hoogt" if nl else "De Hoogt business park",
            "focus": "VERDIENMODEL_VERSTOREN",
            "details": "Huurder onbekend; buurman belt 06-12345678 bij nieuwe activiteit."
            if nl
            else "Tenant unknown; a neighbour calls 06-12345678 when something happens.",
        },
    )
    posted = _wait_posted(stage, lambda c: c.args.get("channel") == channel and '"signal_1"' in _json(c))
    stage.bot_says(posted.args["blocks"])
    with stage.services.session() as session:
        code = session.exec(
            select(Subject.code)
            .join(SignalSubject, SignalSubject.subject_id == Subject.id)  # type: ignore[arg-type]
            .where(SignalSubject.signal_id == 1)
        ).one()

    stage.at("2026-12-07 10:15")
    stage.narrate(
        f"10:15. De wijkagent van de politie ziet hetzelfde pand en vindt code {code} in het kanaal."
        if nl
        else f"10:15. The police's community officer sees the same premises and finds code {code} in the "
        "channel."
    )
    _register(
        stage,
        "jan",
        "Veel verkeer bij de loods, mogelijk opslag voor een drugslab"
        if nl
        else "Much traffic at the warehouse, maybe storage for a drugs lab",
        {
            "category": "DRUGS",
            "subject_codes": code,
            "details": "Informant: zag jerrycans uitladen." if nl else "Informant: saw jerrycans unloaded.",
        },
    )
    for key in ("fatima", "jan", "ruud"):
        person = stage.people[key]
        notice = _wait_posted(
            stage, lambda c, p=person: c.args.get("channel") == p.user_id and code in _json(c)
        )
        stage.bot_says(notice.args["blocks"], to=key, where="DM")

    stage.at("2026-12-07 11:00")
    stage.narrate(
        f"11:00. {ruud.name} (RIEC) weegt het signaal van de gemeente met de knop in het kanaal."
        if nl
        else f"11:00. {ruud.name} (RIEC) weighs the municipality's signal with the button in the channel."
    )
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.action("signal_weigh", value="1", user=ruud.user_id, channel=channel, team=TEAM)
    stage.double.wait_for("views.open", count=opened + 1)
    form = stage.double.last_view("signal_weigh")
    stage.bot_says(form["blocks"][:2], to="ruud", where="formulier" if nl else "form")
    with stage.services.session() as session:
        politie = session.exec(select(Signal.partner_id).where(Signal.id == 2)).one()
    values: dict[str, Any] = {
        "verdict": "ja",
        "verdict_reason": "Twee partners, patroon past bij drugsproductie"
        if nl
        else "Two partners, the pattern fits drugs production",
        "task_partner": str(politie),
        "legal_basis": "Opiumwet; art. 13b Opiumwet voor de gemeente"
        if nl
        else "Opiumwet; art. 13b Opiumwet for the municipality",
        "task_reason": "Opsporing eerst, bestuurlijke sluiting als tweede ronde"
        if nl
        else "Investigation first, administrative closure as the second round",
        "seriousness": "4",
        "recency": "WEEK",
        "seriousness_reason": "Actueel en groot" if nl else "Current and large",
        "outcome": "CASUS",
        "outcome_reason": "Samen oppakken" if nl else "Take it up together",
        "case_focus": "VERDIENMODEL_VERSTOREN",  # as the signal said: closure and assessment hit his income
        # One short name for the case, the same in every message that names it.
        "case_title": CASE_TITLE[stage.language],
    }
    stage.driver.view_submission(
        "signal_weigh", {k: {"value": v} for k, v in values.items()}, user=ruud.user_id, view_id=form["id"]
    )
    case = _wait_posted(stage, lambda c: c.args.get("channel") == channel and '"case_1"' in _json(c))
    stage.bot_says(case.args["blocks"])
    outcome = _wait_posted(
        stage, lambda c: c.args.get("channel") == fatima.user_id and "casus 1" in _json(c).lower()
    )
    stage.bot_says(outcome.args["blocks"], to="fatima", where="DM")
    stage.command("jan", "/samen", "werkvoorraad")
    stage.command("jan", "/samen", "signalen 1")


def _register(stage: Stage, who: str, summary: str, fields: dict[str, Any]) -> None:
    person = stage.people[who]
    stage.says(who, f"/samen signaal {summary}")
    opened = len(stage.double.calls_to("views.open"))
    stage.driver.command("/samen", f"signaal {summary}", user=person.user_id, team=TEAM)
    stage.double.wait_for("views.open", count=opened + 1)
    form = stage.double.last_view("signal_register")
    stage.bot_says(form["blocks"][:1], to=who, where="formulier" if stage.language == "nl" else "form")
    answered = len(stage.double.calls_to("response_url"))
    values = {"summary": summary, **fields}
    stage.driver.view_submission(
        "signal_register",
        {k: {"value": v} for k, v in values.items()},
        user=person.user_id,
        view_id=form["id"],
    )
    confirmation = stage.double.wait_for("response_url", count=answered + 1)[-1]
    stage.bot_says(confirmation.args["blocks"], to=who)


def _wait_posted(stage: Stage, matches: Any) -> Call:
    return stage.double.wait_for("chat.postMessage", lambda c: c.ok and matches(c), timeout=10)[-1]


def _json(call: Call) -> str:
    return json.dumps(call.args, ensure_ascii=False)
