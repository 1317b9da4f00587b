"""The public sources of the funding rules, by title.

The rules files cite the research note's source keys ([S23], [S13-May21]) so each figure can be
traced to section 9 of shared/domain/funding-rules.md; people reading a figure get the
publication's title instead (`public`).
"""

from __future__ import annotations

import re

TITLES = {
    "S1": "Parliamentary written answer, 5 June 2019",
    "S2": "Pulse Intelligence, network payments guide",
    "S3": "BW Medical, PCN first-year national entitlements",
    "S4": "Pharmaceutical Journal, PCN pharmacist reimbursement",
    "S5": "Pulse Intelligence, social prescribing link worker guide",
    "S6": "Practice Index, a brief guide to PCN finance",
    "S7": "Management in Practice, 15 March 2019",
    "S8": "BHNC, extended hour access (quoting the Network Contract DES 2019/20, section 4.6)",
    "S9": "Pulse Intelligence, extended hours under networks",
    "S10": "Pulse, networks to receive 45p per patient less",
    "S11": "Ockham Healthcare, the challenge of being a PCN clinical director",
    "S12": "Lentells, PCN funding streams 2020/21",
    "S13": "BMA, Primary care network funding",
    "S13-Nov20": "BMA, Primary care network funding (November 2020)",
    "S13-May21": "BMA, Primary care network funding (May 2021)",
    "S13-Oct22": "BMA, Primary care network funding (October 2022)",
    "S13-Apr25": "BMA, Primary care network funding (April 2025)",
    "S14": "Essex LMC, PCN DES April 2020",
    "S15": "Hempsons, revised Network Contract DES 2020/21",
    "S16": "Chemist+Druggist, PCN pharmacists",
    "S16b": "The Pharmacist, pharmacy technicians",
    "S16c": "Chemist+Druggist, pharmacy technician roles",
    "S17": "Greater Manchester Training Hub, social prescriber",
    "S18": "Pulse, 100% funding for additional roles from April 2020",
    "S19": "NHS England, Investment and Impact Fund",
    "S20": "Healthcare Leader, Investment and Impact Fund 2021/22",
    "S21": "Pulse Intelligence, ARRS 2021/22 explained",
    "S22": "GPonline, ARRS funding increased to £1bn",
    "S23": "Slideshare summary of the Network Contract DES 2022/23",
    "S24a": "GPonline, £7.46 per patient enhanced access",
    "S24b": "Management in Practice, £7.46 per patient for enhanced access",
    "S25": "PCC, Network Contract DES 2023/24 payments",
    "S26": "THC Primary Care, PCN payments 2023/24",
    "S27": "Clinical Pharmacist Solutions, Capacity and Access Improvement Payment 2023/24",
    "S28": "Ockham Healthcare, what to make of the PCN DES",
    "S29": "The Pharmacist, ARRS pay uplift 2023/24",
    "S30": "Pulse, PCN funding remains flat for 2024/25",
    "S31": "Doncaster LMC, PCN financial entitlements 2024/25",
    "S32": "Pulse, three IIF targets scrapped in 2024/25",
    "S33": "Pulse, Network Contract DES update September 2024",
    "S34": "The Pharmacist, ARRS rates October 2024",
    "S35": "Primary Care IT, IIF funding structure 2024/25",
    "S36": "Pulse, Network Contract DES 2025/26",
    "S37": "South Staffordshire LMCs, adjusted population corrections 2025/26",
    "S38b": "Management in Practice, 15 March 2019",
    "S39b": "Pulse, PCN DES requirements merged (2024/25)",
    "S39c": "Pulse, ARRS increases in line with Agenda for Change",
    "S42": "Doncaster LMC, Additional Roles Reimbursement Scheme",
    "S49": "North Central London Training Hub, ARRS changes 2023/24",
    "S51": "Integrated Health, £43m for primary care leadership",
    "S52": "GPonline, PCN leadership and clinical director funding 2022/23",
    "S53": "Nursing in Practice, £37m of IIF reallocated",
    "S54": "Doncaster LMC, Investment and Impact Fund",
    "S55": "Management in Practice, social prescribing link workers",
    "S56": "North East and North Cumbria primary care roles, social prescribing link worker",
    "S57c": "Chartered Society of Physiotherapy, fully funded FCP roles",
    "S58": "Primary Care IT, QOF 2024/25 overview",
    "S59": "Doncaster LMC, enhanced access",
    "S60": "Ockham Healthcare, are PCN clinical directors due a pay rise?",
}
_TAG = re.compile(r"\[(S\d+[a-z]?(?:-[A-Za-z0-9]+)?)\]")
_LEADING = re.compile(r"^((?:\[S[^\]]+\][,\s]*)+)(.*)$", re.S)


def title(key: str) -> str:
    return TITLES.get(key) or TITLES.get(re.sub(r"[a-z]$|-.*$", "", key)) or "research note"


def public(text: str) -> str:
    """A rule's source or note with the note's keys replaced by publication titles: a part
    that starts with keys and then names the publication keeps the name; keys with nothing
    after them, or inside a sentence, become the titles."""
    parts = []
    for part in text.split("; "):
        m = _LEADING.match(part.strip())
        if m:
            keys, rest = _TAG.findall(m[1]), m[2].strip()
            first = rest.split(" ")[0].strip(",'").lower()
            if rest and any(title(k).lower().startswith(first) for k in keys):
                part = rest  # the part names the publication after its key
            else:
                names = " and ".join(dict.fromkeys(title(k) for k in keys))
                if not rest:
                    part = names
                else:
                    part = f"{names} {rest}" if rest.startswith("(") else f"{names}: {rest}"
        parts.append(part)
    joined = "; ".join(parts)
    joined = re.sub(
        r"\s*((?:\[S[^\]]+\][,\s]*)+)",
        lambda m: (
            " ("
            + "; ".join(dict.fromkeys(title(k) for k in _TAG.findall(m[1])))
            + ")"
            + m[1][len(m[1].rstrip(", ")) :]
        ),
        joined,
    )
    joined = re.sub(r"\(?(2019/20, )?section 1\.1 X\)?", "(the sources conflict, 2019/20)", joined)
    return re.sub(r"\s+\)", ")", joined).replace(" (research note)", "").strip()
