"""The partnership's shared vocabulary (docs/domain.md): enumerations, and the labels people see for them.

Codes are English-free Dutch identifiers as docs/domain.md lists them; labels are message ids translated
when shown (`N_` marks them for extraction).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

import sqlalchemy as sa

from bot.i18n import N_


def enum_column(enum: type[StrEnum], length: int = 32) -> sa.Enum:
    """Stored as the value in a VARCHAR (no native PostgreSQL enum to migrate), read back as the member."""
    return sa.Enum(
        enum,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


class FocusElement(StrEnum):
    OPROLLEN = "OPROLLEN"
    AFPAKKEN = "AFPAKKEN"
    VERDIENMODEL_VERSTOREN = "VERDIENMODEL_VERSTOREN"
    CARRIERES_VOORKOMEN = "CARRIERES_VOORKOMEN"
    WEERBAARHEID = "WEERBAARHEID"


FOCUS_LABELS: Final[dict[FocusElement, str]] = {
    FocusElement.OPROLLEN: N_("Roll up networks"),
    FocusElement.AFPAKKEN: N_("Seize criminal assets"),
    FocusElement.VERDIENMODEL_VERSTOREN: N_("Disrupt business models"),
    FocusElement.CARRIERES_VOORKOMEN: N_("Prevent criminal careers"),
    FocusElement.WEERBAARHEID: N_("Resilience and integrity"),
}


class SignalCategory(StrEnum):
    DRUGS = "DRUGS"
    MENSENHANDEL = "MENSENHANDEL"
    WITWASSEN = "WITWASSEN"
    VASTGOED = "VASTGOED"
    OMG = "OMG"
    MALAFIDE_BEDRIJVIGHEID = "MALAFIDE_BEDRIJVIGHEID"
    MISBRUIK_VOORZIENINGEN = "MISBRUIK_VOORZIENINGEN"
    INTIMIDATIE = "INTIMIDATIE"
    CORRUPTIE = "CORRUPTIE"
    OVERIG = "OVERIG"


CATEGORY_LABELS: Final[dict[SignalCategory, str]] = {
    SignalCategory.DRUGS: N_("Drugs"),
    SignalCategory.MENSENHANDEL: N_("Human trafficking"),
    SignalCategory.WITWASSEN: N_("Money laundering"),
    SignalCategory.VASTGOED: N_("Real estate"),
    SignalCategory.OMG: N_("Outlaw motorcycle gangs"),
    SignalCategory.MALAFIDE_BEDRIJVIGHEID: N_("Mala fide business"),
    SignalCategory.MISBRUIK_VOORZIENINGEN: N_("Abuse of public provisions"),
    SignalCategory.INTIMIDATIE: N_("Intimidation"),
    SignalCategory.CORRUPTIE: N_("Corruption"),
    SignalCategory.OVERIG: N_("Other"),
}


class SubjectKind(StrEnum):
    PERSOON = "PERSOON"
    BEDRIJF = "BEDRIJF"
    LOCATIE = "LOCATIE"
    NETWERK = "NETWERK"


SUBJECT_KIND_LABELS: Final[dict[SubjectKind, str]] = {
    SubjectKind.PERSOON: N_("Person"),
    SubjectKind.BEDRIJF: N_("Company"),
    SubjectKind.LOCATIE: N_("Location"),
    SubjectKind.NETWERK: N_("Network"),
}


class SubjectRole(StrEnum):
    SLEUTELPERSOON = "SLEUTELPERSOON"
    DOORGROEIER = "DOORGROEIER"
    FACILITATOR = "FACILITATOR"
    ONAANTASTBARE = "ONAANTASTBARE"
    BETROKKENE = "BETROKKENE"


SUBJECT_ROLE_LABELS: Final[dict[SubjectRole, str]] = {
    SubjectRole.SLEUTELPERSOON: N_("Key person"),
    SubjectRole.DOORGROEIER: N_("Riser"),
    SubjectRole.FACILITATOR: N_("Facilitator"),
    SubjectRole.ONAANTASTBARE: N_("Untouchable"),
    SubjectRole.BETROKKENE: N_("Involved"),
}


class Contribution(StrEnum):
    SPELER_IN_POSITIE = "SPELER_IN_POSITIE"
    SLAGKRACHT = "SLAGKRACHT"
    INFORMATIEPOSITIE = "INFORMATIEPOSITIE"


CONTRIBUTION_LABELS: Final[dict[Contribution, str]] = {
    Contribution.SPELER_IN_POSITIE: N_("Put a player in position"),
    Contribution.SLAGKRACHT: N_("Strike power"),
    Contribution.INFORMATIEPOSITIE: N_("Information position"),
}


class InstrumentType(StrEnum):
    BESTUURSRECHTELIJK = "BESTUURSRECHTELIJK"
    STRAFRECHTELIJK = "STRAFRECHTELIJK"
    FISCAAL = "FISCAAL"
    PRIVAATRECHTELIJK = "PRIVAATRECHTELIJK"
    PREVENTIEF = "PREVENTIEF"


INSTRUMENT_TYPE_LABELS: Final[dict[InstrumentType, str]] = {
    InstrumentType.BESTUURSRECHTELIJK: N_("Administrative law"),
    InstrumentType.STRAFRECHTELIJK: N_("Criminal law"),
    InstrumentType.FISCAAL: N_("Tax"),
    InstrumentType.PRIVAATRECHTELIJK: N_("Private law"),
    InstrumentType.PREVENTIEF: N_("Prevention"),
}


class IncidentType(StrEnum):
    BEDREIGING = "BEDREIGING"
    INTIMIDATIE = "INTIMIDATIE"
    GEWELD = "GEWELD"
    THUISSITUATIE = "THUISSITUATIE"
    ONLINE = "ONLINE"
    OVERIG = "OVERIG"


INCIDENT_TYPE_LABELS: Final[dict[IncidentType, str]] = {
    IncidentType.BEDREIGING: N_("Threat"),
    IncidentType.INTIMIDATIE: N_("Intimidation"),
    IncidentType.GEWELD: N_("Violence"),
    IncidentType.THUISSITUATIE: N_("At home"),
    IncidentType.ONLINE: N_("Online"),
    IncidentType.OVERIG: N_("Other"),
}
