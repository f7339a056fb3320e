"""Clean display names: people put pronouns, emoji, credentials and slogans in their name field.

``clean_name("Jane Doe, PhD (She/Her) 🚀")`` →
``{"name": "Jane Doe", "given_name": "Jane", "family_name": "Doe", "pronouns": "she/her",
"credentials": "PhD"}``.  Splitting uses nameparser; given_name is the first name only.
"""

from __future__ import annotations

import re
import unicodedata

from nameparser import HumanName

_PRONOUN_WORDS = (
    r"she|her|hers|he|him|his|they|them|theirs|xe|xem|xyr|ze|zir|hir|"
    r"ey|em|it|its|any|all|ask me|elle|il|ella|él|sie|ihr"
)
_PRONOUN_SEQ = rf"(?:{_PRONOUN_WORDS})(?:\s*/\s*(?:{_PRONOUN_WORDS}))+|any pronouns|ask me"
_PRONOUNS_BRACKETED = re.compile(rf"[\(\[\{{]\s*(?:pronouns\s*:\s*)?({_PRONOUN_SEQ})\s*[\)\]\}}]", re.IGNORECASE)
_PRONOUNS_TRAILING = re.compile(rf"(?:^|[\s,|·•\-–—])\s*({_PRONOUN_SEQ})\s*$", re.IGNORECASE)

# Post-nominal letters seen in LinkedIn/X display names.  Matching is on the token with dots
# removed, case-insensitively, so "Ph.D." and "PHD" both count.
_CREDENTIALS = frozenset(
    x.lower()
    for x in """
PhD DPhil MD DO DDS DMD DVM PharmD PsyD EdD DBA JD LLM LLB MBA MPA MPH MSc MS MA MEng MFA MArch
BSc BS BA BEng BCom BBA CFA CPA CA ACA FCA ACCA CMA CIA CISA CISSP CISM CEH OSCP PMP PgMP CSM
CSPO PSM SAFe CAPM ITIL PE PEng CEng IEng FRCS FRCP MRCP MRCS FRCPath RN NP PAC APRN LPN CNA
FACS FACP FAAP SHRMCP SHRMSCP SPHR PHR GPHR CFP ChFC CLU CAIA FRM ESQ MCIPD FCIPD CIPD MIET
FIET MIMechE FIMechE FBCS MBCS CITP FRSA FHEA SFHEA CPsychol CSci MRICS FRICS AWS GCP CKA CKAD
""".split()
)
_CRED_TOKEN = re.compile(r"^[A-Za-z][A-Za-z.\-]{0,11}$")


def _is_credential(token: str) -> bool:
    t = token.strip()
    if not t or not _CRED_TOKEN.match(t):
        return False
    return t.replace(".", "").replace("-", "").lower() in _CREDENTIALS


def _strip_emoji(s: str) -> str:
    out = []
    for ch in s:
        cat = unicodedata.category(ch)
        cp = ord(ch)
        if cat in ("So", "Cs", "Co") or cp in (0x200D, 0xFE0F, 0xFE0E, 0x20E3):
            continue
        if 0x1F3FB <= cp <= 0x1F3FF or 0x1F1E6 <= cp <= 0x1F1FF or 0xE0020 <= cp <= 0xE007F:
            continue
        out.append(ch)
    return "".join(out)


def _squash(s: str) -> str:
    return " ".join(s.split())


def clean_name(raw, *, split: bool = True) -> dict:
    """Split a display name into name, given/family name, pronouns and credentials (all may be None).

    `split=False` leaves given/family None: nameparser is most of a profile page's extraction time,
    and a page's separate given and family names only need their `name` cleaned."""
    result = {"name": None, "given_name": None, "family_name": None, "pronouns": None, "credentials": None}
    if not isinstance(raw, str):
        return result
    s = unicodedata.normalize("NFC", raw)
    s = _squash(s.replace("\u00a0", " "))[:300]
    if not s:
        return result

    pronouns = None
    m = _PRONOUNS_BRACKETED.search(s)
    if m:
        pronouns = m.group(1)
        s = s[: m.start()] + " " + s[m.end() :]
    s = _squash(_strip_emoji(s))
    if pronouns is None:
        m = _PRONOUNS_TRAILING.search(s)
        if m and m.start(1) > 0:
            pronouns = m.group(1)
            s = s[: m.start()]
    # A slogan after a bar ("Jane Doe | Hiring!") is not part of the name.
    if "|" in s:
        head = s.split("|", 1)[0].strip()
        if head:
            s = head

    credentials: list[str] = []
    parts = [p.strip() for p in s.split(",")]
    if len(parts) > 1:
        keep = [parts[0]]
        for part in parts[1:]:
            tokens = part.split()
            if tokens and all(_is_credential(t) for t in tokens):
                credentials.extend(tokens)
            else:
                keep.append(part)
        s = ", ".join(p for p in keep if p)
    tokens = s.split()
    # trailing "Jane Doe MBA": only tokens written like credentials (two capitals or dots),
    # so surnames such as "Ma" or "Do" survive.
    while (
        len(tokens) > 1
        and _is_credential(tokens[-1])
        and (sum(c.isupper() for c in tokens[-1]) >= 2 or "." in tokens[-1])
    ):
        credentials.insert(0, tokens.pop().rstrip(","))
    s = " ".join(tokens).strip(" ,;:-–—|·•")

    if pronouns:
        result["pronouns"] = re.sub(r"\s*/\s*", "/", pronouns.strip().lower())
    if credentials:
        result["credentials"] = ", ".join(credentials)
    if not s:
        return result
    result["name"] = s
    if split:
        result["given_name"], result["family_name"] = split_name(s)
    return result


_URLISH = re.compile(
    r"^(?:[a-z][a-z0-9+.\-]*://|www\.|mailto:)|^[^\s@/]+@[^\s@/]+\.[a-z]{2,}$"
    r"|^(?-i:[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,})(?::\d+)?(?:/\S*)?$",
    re.I,
)


def looks_like_url(text) -> bool:
    """A URL, an address or a bare domain ("https://jane.example/", "jane.example", "jane@x.example"):
    never a person's name, whatever a page's markup says."""
    return isinstance(text, str) and bool(_URLISH.match(text.strip()))


def split_name(name: str) -> tuple[str | None, str | None]:
    """Given and family name via nameparser; single words are a given name."""
    try:
        h = HumanName(name)
        first, last = (h.first or "").strip(), (h.last or "").strip()
    except Exception:
        return None, None
    if not first and last and " " not in name.strip() and not _is_cjk(last):
        first, last = last, ""
    return first or None, last or None


def _is_cjk(s: str) -> bool:
    return any("\u3040" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in s)
