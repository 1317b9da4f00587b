"""The published sources behind the population health definitions, by the titles a reader can
look up. Definitions cite these (never a file name or a research-note section number); the
research note (shared/domain/population-health.md, section 8) keeps the full references."""

from __future__ import annotations

EFI = "Clegg et al., Age and Ageing 2016 — the electronic frailty index (eFI)"
EFI_CONTRACT = "GP contract 2017/18 frailty requirements (eFI plus clinical judgement)"
CMS = "Payne et al., CMAJ 2020 — the Cambridge Multimorbidity Score"
SEGMENTATION_NHSE = "NHS England, national Bridges to Health segmentation dataset"
SEGMENTATION_SNEE = "Suffolk and North East Essex ICS, population segmentation"
SEGMENTATION_CIPHA = "Cheshire and Merseyside ICS (CIPHA), population segmentation"
COMPLEX_ADULTS = "North Central London ICB, Complex Adults cohort (version 2.2)"
PCNKIT_RULES = (
    "pcnkit's own tier rules, built on the published segmentations cited here "
    "(not a national standard)"
)
PCNKIT_RISK = "pcnkit's risk model (logistic regression on this population's own data)"
SMR = (
    "NHS England, Network Contract DES guidance on structured medication reviews and "
    "medicines optimisation (2021)"
)
PINCER = "PINCER prescribing-safety indicators (as published by OpenSAFELY)"
EHCH = "NHS England, Enhanced Health in Care Homes framework (version 3, 2023)"
PROACTIVE = (
    "NHS England, Proactive care: providing care and support for people living at home "
    "with moderate or severe frailty (2023)"
)
CANCER = "NHS England, Network Contract DES: early cancer diagnosis (IIF indicator CAN-02)"
CVD = "NHS England, Network Contract DES: CVD prevention and diagnosis (IIF indicator CVD-01)"
NICE_HYPERTENSION = "NICE guideline NG136, Hypertension in adults (2019)"
INEQUALITIES = "NHS England, Core20PLUS5 (tackling neighbourhood health inequalities)"
DISCLOSURE = (
    "OpenSAFELY output checking rules and NHS Digital's disclosure control for HES: counts "
    "of 1 to 7 suppressed, others rounded to the nearest 5"
)
QOF_ENGLAND = "NHS Digital, Quality and Outcomes Framework 2019-20: prevalence (England)"
RISING_RISK_QUOTA = (
    "NW London Primary Care Committee, GP at-scale plan (November 2018): networks flagged "
    "about 50 patients per 10,000 list as rising risk"
)
