"""Loaded files as users know them: a publication's public title and the period it describes.

Screens and evidence cite a source by its title ("NHS Digital, Patients Registered at a GP
Practice, January 2021"), never by the name the file happened to be saved under. A yearly
publication (payments, the QOF geography map) describes a whole financial year, so an
organisation it mentions existed during that year, not only on its extract date.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from pcnkit.dates import contract_year_start, year_label


class _Source(Protocol):
    file_type: str
    extract_date: dt.date
    publisher: str


# file type -> (publisher shown when the file did not record one, publication title)
TITLES = {
    "epraccur": ("NHS Digital (ODS)", "GP practices (epraccur)"),
    "epcn": ("NHS Digital (ODS)", "PCNs and their core partner practices (ePCN)"),
    "gp-reg-pat-prac-all": ("NHS Digital", "Patients Registered at a GP Practice"),
    "qof-prevalence": ("NHS Digital", "Quality and Outcomes Framework, practice list sizes"),
    "qof-geographies": ("NHS Digital", "Quality and Outcomes Framework, NHS geographies"),
    "nhs-payments": ("NHS Digital", "NHS Payments to General Practice"),
    "gpad-practice-mapping": ("NHS England", "Appointments in General Practice, practice mapping"),
    "ccg-icb-lookup": ("NHS England", "CCG to ICB lookup"),
    "nhs-choices": ("NHS Choices", "GP practice locations"),
    "definitions": ("Local", "local definitions"),
    "list-sizes": ("Local", "list sizes supplied locally"),
    # assurance publications (pcnkit.assurance.importers)
    "oc-submissions": (
        "NHS England",
        "Submissions via Online Consultation Systems in General Practice",
    ),
    "cloud-telephony": ("NHS England", "Cloud Based Telephony data in General Practice"),
    "cqc-ratings": ("Care Quality Commission", "latest overall ratings of GP practices"),
    "practice-workforce": ("NHS Digital", "General Practice Workforce, practice level"),
    "pcn-workforce": ("NHS Digital", "Primary Care Networks workforce, individual level"),
    "qof-cvd": ("NHS Digital", "QOF cardiovascular achievement and prevalence by practice"),
    "pcn-data-matrix": ("NHS England", "PCN data matrix (QOF achievement by practice)"),
    "gpad-appointments": ("NHS England", "Appointments in General Practice, practice level"),
    "qof-registers": ("NHS Digital", "Quality and Outcomes Framework, prevalence (registers)"),
}
# Publications whose figures describe a financial (or QOF) year ending on the extract date.
YEARLY = ("nhs-payments", "qof-geographies")
# Sources that count registered patients; the payments files' lists are quarter averages.
COUNTS = ("list-sizes", "gp-reg-pat-prac-all", "qof-prevalence")


def covers_from(source: _Source) -> dt.date | None:
    """The first day of the year a yearly publication describes (None for a point-in-time file)."""
    if source.file_type in YEARLY:
        return contract_year_start(source.extract_date)
    return None


def title(source: _Source) -> str:
    """The publication's public title with its date, e.g. 'NHS Digital, NHS Payments to General
    Practice 2019/20' or 'NHS Digital, Patients Registered at a GP Practice, January 2021'."""
    fallback, name = TITLES.get(source.file_type, ("", source.file_type))
    publisher = (source.publisher or fallback).strip().removesuffix(" (QOF)")
    if source.file_type in ("definitions", "list-sizes"):
        when = f"as at {source.extract_date.day} {source.extract_date:%B %Y}"
        who = f", {publisher}" if publisher.lower() not in ("", "local") else ""
        return f"{name[0].upper()}{name[1:]}{who}, {when}"
    start = covers_from(source)
    if start is not None:
        text = f"{name} {year_label(start)}"
    elif source.file_type == "qof-prevalence":
        text = f"{name} at {source.extract_date.day} {source.extract_date:%B %Y}"
    else:
        text = f"{name}, {source.extract_date:%B %Y}"
    return f"{publisher}, {text}" if publisher else text
