"""Canonical identity keys (docs/IDENTITY.md), so one person saved from many URLs is one contact.

Every key is a dict ``{"kind", "value", "url"}``: ``value`` is what the store compares,
``url`` is something a person can open (or None).  Kinds: linkedin, linkedin_urn, github,
github_id, x, x_id, mastodon, activitypub, bluesky, bluesky_did, instagram, tiktok, dribbble,
email, phone, url.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

# phonenumbers, email_validator and rapidfuzz are imported where used: a command that never reads
# a phone number (most imports) does not pay for loading them.

__all__ = ["canonical_identity", "identities_for_url", "name_similarity", "same_person_name", "KINDS", "SHARED_KINDS"]

KINDS = (
    "linkedin",
    "linkedin_urn",
    "github",
    "github_id",
    "x",
    "x_id",
    "mastodon",
    "activitypub",
    "bluesky",
    "bluesky_did",
    "instagram",
    "tiktok",
    "dribbble",
    "email",
    "phone",
    "url",
)

# Paths on github.com that are product pages, not users (github.com/{login}).
GITHUB_RESERVED = frozenset(
    """
about account apps blog codespaces collections contact copilot customer-stories dashboard
enterprise enterprises events explore features gist github-copilot home issues join login
logout marketplace mobile new nonprofit notifications orgs organizations partners pricing
pulls readme resources search security sessions settings site solutions sponsors stars
team topics trending users watching why-github education premium-support signup
""".split()
)

# Paths on x.com that are app pages, not handles.
X_RESERVED = frozenset(
    """
home explore notifications messages i settings search intent share hashtag compose login
signup tos privacy account about jobs logout download lists bookmarks communities
premium_sign_up verified-choose jobs_search
""".split()
)
# Sub-pages of a profile that still name the profile's owner.
X_PROFILE_TABS = frozenset(
    """
with_replies media likes highlights articles followers following verified_followers
followers_you_follow superfollows affiliates
""".split()
)

# Hosts whose /@name paths are not Mastodon accounts.
NOT_MASTODON_HOSTS = frozenset(
    """
medium.com youtube.com tiktok.com threads.net threads.com substack.com www.youtube.com
m.youtube.com www.tiktok.com www.threads.net www.threads.com
""".split()
)

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|trk|trkInfo|ref_src|ref|igshid|si)$")
_X_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_GH_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
_MASTO_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
_HOST = re.compile(r"^[a-z0-9.\-]+\.[a-z]{2,}$|^localhost$|^\d{1,3}(?:\.\d{1,3}){3}$")
_LI_URN = re.compile(
    r"^urn:li:(?:fsd_profile|fs_profile|fs_miniProfile|fsd_miniProfile|"
    r"fs_normalized_profile|profile):([A-Za-z0-9_\-]+)$"
)
_LI_MEMBER = re.compile(r"^urn:li:member:(\d+)$")


def _key(kind: str, value: str, url: str | None) -> dict:
    return {"kind": kind, "value": value, "url": url}


def _split(url: str):
    """urlsplit that tolerates a missing scheme ("linkedin.com/in/x") and never raises."""
    s = url.strip()
    if "://" not in s and not s.startswith("//"):
        s = "https://" + s
    elif s.startswith("//"):
        s = "https:" + s
    try:
        parts = urlsplit(s)
        host = (parts.hostname or "").rstrip(".").lower()
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return None
    if not host:
        return None
    return parts, host


def _path_segments(path: str) -> list[str]:
    return [unquote(p) for p in path.split("/") if p]


def _bare(host: str) -> str:
    for prefix in ("www.", "mobile.", "m."):
        if host.startswith(prefix):
            return host[len(prefix) :]
    return host


# --- per-platform -------------------------------------------------------------------------


def linkedin_key(slug: str) -> dict | None:
    slug = unicodedata.normalize("NFC", unquote(slug).strip().strip("/")).lower()
    if not slug or "/" in slug or " " in slug:
        return None
    url = f"https://www.linkedin.com/in/{slug}/"
    return _key("linkedin", url, url)


def linkedin_urn_key(urn: str) -> dict | None:
    """Profile URNs of every Voyager generation map to ``urn:li:fsd_profile:ID``."""
    urn = unquote(urn.strip())
    m = _LI_URN.match(urn)
    if m:
        return _key("linkedin_urn", f"urn:li:fsd_profile:{m.group(1)}", None)
    m = _LI_MEMBER.match(urn)
    if m:
        return _key("linkedin_urn", f"urn:li:member:{m.group(1)}", None)
    return None


def _linkedin_from_url(parts, host) -> dict | None:
    if not (host == "linkedin.com" or host.endswith(".linkedin.com")):
        return None
    segs = _path_segments(parts.path)
    if segs and segs[0] in ("mwlite", "m"):
        segs = segs[1:]
    if len(segs) >= 2 and segs[0] == "in":
        return linkedin_key(segs[1])
    return None


def github_key(login: str) -> dict | None:
    login = login.strip().lstrip("@")
    if not _GH_LOGIN.match(login) or login.lower() in GITHUB_RESERVED:
        return None
    url = f"https://github.com/{login.lower()}"
    return _key("github", url, url)


def _github_from_url(parts, host) -> dict | None:
    if _bare(host) != "github.com":
        return None
    segs = _path_segments(parts.path)
    if len(segs) != 1:
        return None
    return github_key(segs[0])


def x_key(handle: str) -> dict | None:
    handle = handle.strip().lstrip("@")
    if not _X_HANDLE.match(handle) or handle.lower() in X_RESERVED:
        return None
    url = f"https://x.com/{handle.lower()}"
    return _key("x", url, url)


def _x_from_url(parts, host) -> dict | None:
    if _bare(host) not in ("x.com", "twitter.com"):
        return None
    segs = _path_segments(parts.path)
    if not segs:
        return None
    if len(segs) >= 3 and segs[0] == "i" and segs[1] == "user" and segs[2].isdigit():
        return x_id_key(segs[2])
    if len(segs) == 1 or (len(segs) == 2 and segs[1] in X_PROFILE_TABS):
        return x_key(segs[0])
    return None


def x_id_key(ident: str) -> dict | None:
    ident = str(ident).strip()
    if not ident.isdigit():
        return None
    return _key("x_id", ident, f"https://x.com/i/user/{ident}")


def github_id_key(ident: str) -> dict | None:
    ident = str(ident).strip()
    if not ident.isdigit():
        return None
    return _key("github_id", ident, None)


def mastodon_key(user: str, host: str) -> dict | None:
    user = unquote(user).strip().lstrip("@")
    host = host.strip().rstrip(".").lower()
    if not user or not _MASTO_USER.match(user) or not _HOST.match(host):
        return None
    return _key("mastodon", f"@{user}@{host}", f"https://{host}/@{user}")


def _mastodon_handle(text: str) -> dict | None:
    """'@user@host', 'user@host' (profile:username) or 'acct:user@host'."""
    s = text.strip()
    if s.startswith("acct:"):
        s = s[5:]
    s = s.lstrip("@")
    if s.count("@") != 1:
        return None
    user, host = s.split("@")
    return mastodon_key(user, host)


def _mastodon_from_url(parts, host, explicit: bool) -> dict | None:
    segs = _path_segments(parts.path)
    if not segs or host in NOT_MASTODON_HOSTS:
        return None
    first = segs[0]
    if first.startswith("@") and len(first) > 1 and (len(segs) == 1 or explicit):
        handle = first[1:]
        if "@" in handle:  # /@user@remote: the account lives on the remote host
            user, _, remote = handle.partition("@")
            return mastodon_key(user, remote)
        return mastodon_key(handle, host)
    if explicit and first == "users" and len(segs) >= 2:
        return mastodon_key(segs[1], host)
    return None


_BSKY_HANDLE = re.compile(
    r"^(?=.{3,253}$)[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)+$"
)
_DID = re.compile(r"^did:(?:plc:[a-z2-7]{24}|web:[a-z0-9.\-]+(?:%3[aA]\d+)?)$")
_INSTAGRAM_USER = re.compile(r"^[A-Za-z0-9._]{1,30}$")
_TIKTOK_USER = re.compile(r"^[A-Za-z0-9._]{2,24}$")
_DRIBBBLE_USER = re.compile(r"^[A-Za-z0-9_\-]{2,40}$")
INSTAGRAM_RESERVED = frozenset(
    """
p reel reels explore accounts stories direct tv about legal developer web emails challenge
graphql api privacy terms oauth session login signup press blog
""".split()
)
DRIBBBLE_RESERVED = frozenset(
    """
shots designers jobs search tags tag stories session signup signin about pro hiring colors learn
following followers likes buckets projects teams places uploads account settings messages
notifications terms privacy contact resources marketplace shop freelance-jobs for-designers
community courses goods assets business advertise careers
""".split()
)


def bluesky_key(handle: str) -> dict | None:
    """A Bluesky handle (a domain name: `name.bsky.social`, or the person's own domain)."""
    handle = handle.strip().lstrip("@").lower().rstrip(".")
    if handle.startswith("did:"):
        return bluesky_did_key(handle)
    if not _BSKY_HANDLE.match(handle) or handle.endswith(".invalid"):
        return None
    url = f"https://bsky.app/profile/{handle}"
    return _key("bluesky", handle, url)


def bluesky_did_key(did: str) -> dict | None:
    """The account's DID: it survives a change of handle, so it is the stronger key."""
    did = unquote(did.strip())
    if not _DID.match(did):
        return None
    return _key("bluesky_did", did, f"https://bsky.app/profile/{did}")


def _bluesky_from_url(parts, host) -> dict | None:
    if _bare(host) not in ("bsky.app", "staging.bsky.app"):
        return None
    segs = _path_segments(parts.path)
    if len(segs) >= 2 and segs[0] == "profile":
        return bluesky_key(segs[1])
    return None


def instagram_key(user: str) -> dict | None:
    user = user.strip().lstrip("@")
    if not _INSTAGRAM_USER.match(user) or user.lower() in INSTAGRAM_RESERVED or user.strip(".") != user:
        return None
    url = f"https://www.instagram.com/{user.lower()}/"
    return _key("instagram", url, url)


def _instagram_from_url(parts, host) -> dict | None:
    if _bare(host) not in ("instagram.com", "instagr.am"):
        return None
    segs = _path_segments(parts.path)
    if len(segs) == 1 or (len(segs) == 2 and segs[1] in ("reels", "tagged", "followers", "following")):
        return instagram_key(segs[0])
    return None


def tiktok_key(user: str) -> dict | None:
    user = user.strip().lstrip("@")
    if not _TIKTOK_USER.match(user):
        return None
    url = f"https://www.tiktok.com/@{user.lower()}"
    return _key("tiktok", url, url)


def _tiktok_from_url(parts, host) -> dict | None:
    if _bare(host) != "tiktok.com":
        return None
    segs = _path_segments(parts.path)
    if segs and segs[0].startswith("@") and (len(segs) == 1 or segs[1] in ("video", "photo", "live")):
        return tiktok_key(segs[0][1:])
    return None


def dribbble_key(user: str) -> dict | None:
    user = user.strip().lstrip("@")
    if not _DRIBBBLE_USER.match(user) or user.lower() in DRIBBBLE_RESERVED:
        return None
    url = f"https://dribbble.com/{user.lower()}"
    return _key("dribbble", url, url)


def _dribbble_from_url(parts, host) -> dict | None:
    if _bare(host) != "dribbble.com":
        return None
    segs = _path_segments(parts.path)
    if len(segs) == 1 or (len(segs) == 2 and segs[1] in ("about", "shots", "collections", "likes", "projects")):
        return dribbble_key(segs[0])
    return None


# A plain ASCII address (dot-separated letters and digits, `_+-` inside words, no IDNA labels, within
# the 254-character limit): email_validator's answer is then the local part as written, "@", and the
# normalised domain, so only the domain is validated, once per domain (a test compares the two paths).
_EMAIL_FAST = re.compile(r"([A-Za-z0-9]+(?:[._+\-][A-Za-z0-9]+)*)@((?!.*xn--)[A-Za-z0-9.\-]{1,200})", re.ASCII | re.I)


def email_key(addr: str) -> dict | None:
    s = addr.strip()
    if s.lower().startswith("mailto:"):
        s = unquote(s[7:].split("?", 1)[0])
    if "<" in s and s.endswith(">"):  # '"Omega" <omega@example.com>', as mail clients write it
        from email.utils import parseaddr

        s = parseaddr(s)[1] or s
    fast = _EMAIL_FAST.fullmatch(s) if len(s) <= 254 else None
    if fast:
        domain = _email_domain(fast.group(2))
        if domain is None:
            return None
        value = f"{fast.group(1)}@{domain}".lower()
    else:
        normalized = _validated_email(s)
        if normalized is None:
            return None
        value = normalized.lower()
    return _key("email", value, f"mailto:{value}")


def _validated_email(text: str) -> str | None:
    """email_validator's normalised form of an address (no DNS), or None when it refuses it."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(text, check_deliverability=False).normalized
    except (EmailNotValidError, ValueError, TypeError):
        return None


@lru_cache(maxsize=4096)
def _email_domain(domain: str) -> str | None:
    """The normalised form of a plain ASCII domain, as email_validator gives it in an address."""
    normalized = _validated_email("a@" + domain)
    return normalized[2:] if normalized else None


_EXTENSION = re.compile(r"\s*(?:;\s*ext=|,?\s*(?:ext\.?|extension|x|#)\s*)(\d{1,7})\s*$", re.I)
_LOCAL_PHONE = re.compile(r"^[\d\s().\-/]+$")


def phone_key(number: str, region: str | None = None, *, local: bool = False) -> dict | None:
    """E.164 (`+4930901820`), with `;ext=102` when the number has an extension. With `local`, a
    number written without a country code and no `region` to read it by is kept as its digits
    (`0171 1234567` → `01711234567`), so it is never lost; its `url` is None (a tel: URI needs
    the country)."""
    s = number.strip()
    if s.lower().startswith("tel:"):
        s = unquote(s[4:])
    if not any(ch.isdigit() for ch in s):
        return None
    import phonenumbers

    try:
        parsed = phonenumbers.parse(s, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return _local_phone(s) if local and not region else None
    if not (phonenumbers.is_valid_number(parsed) or phonenumbers.is_possible_number(parsed)):
        return None
    value = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if parsed.extension:
        value += f";ext={parsed.extension}"
    return _key("phone", value, f"tel:{value}")


def _local_phone(text: str) -> dict | None:
    m = _EXTENSION.search(text)
    main, ext = (text[: m.start()], m.group(1)) if m else (text, None)
    if text.lstrip().startswith("+") or not _LOCAL_PHONE.match(main.strip()):
        return None
    digits = re.sub(r"\D", "", main)
    if not 3 <= len(digits) <= 15:
        return None
    return _key("phone", digits + (f";ext={ext}" if ext else ""), None)


def url_key(url: str) -> dict | None:
    """Any web page: https, no www., no fragment, no tracking query, no trailing slash."""
    split = _split(url)
    if split is None:
        return None
    parts, host = split
    if parts.scheme.lower() not in ("http", "https") or not _HOST.match(host):
        return None
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)]
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    path = parts.path or "/"
    shown = urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))
    bare_netloc = _bare(host) + ("" if port in (None, 80, 443) else f":{port}")
    key_path = path.rstrip("/") or "/"
    value = urlunsplit(("https", bare_netloc, key_path, urlencode(query), ""))
    return _key("url", value, shown)


# --- public -------------------------------------------------------------------------------


def canonical_identity(url_or_handle: str, kind: str | None = None, region: str | None = None) -> dict | None:
    """The canonical key for a URL, handle, address or number; None when it is not one.

    ``kind`` forces the interpretation (e.g. ``"x"`` for a bare "@jane", ``"mastodon"`` for
    "jane@host" or a /users/jane URL).  ``region`` is the default region for phone numbers
    written without a country code.
    """
    try:
        return _canonical(url_or_handle, kind, region)
    except Exception:  # a key function must never take a capture down
        return None


# The shape nearly every LinkedIn profile URL has (exports, pages, links): answered without
# urlsplit, with exactly the key the general path gives (a test compares the two). Anything
# else -- other hosts, a query, a fragment, %-escapes, non-ASCII, /mwlite/ -- takes the general path.
_LINKEDIN_FAST = re.compile(r"\s*https?://(?:www\.)?linkedin\.com/in/([A-Za-z0-9_-]{1,200})/?\s*", re.ASCII)


def _canonical(text, kind, region):
    if (kind is None or kind == "linkedin") and isinstance(text, str):
        fast = _LINKEDIN_FAST.fullmatch(text)
        if fast:
            url = f"https://www.linkedin.com/in/{fast.group(1).lower()}/"
            return _key("linkedin", url, url)
    if not isinstance(text, str):
        if isinstance(text, int) and kind in ("x_id", "github_id"):
            text = str(text)
        else:
            return None
    s = text.strip()
    if not s or len(s) > 2048:
        return None
    kind = (kind or "").lower() or None
    if kind == "twitter":
        kind = "x"

    if kind == "email":
        return email_key(s)
    if kind == "phone":
        return phone_key(s, region, local=True)
    if kind == "linkedin_urn":
        return linkedin_urn_key(s)
    if kind == "x_id":
        return x_id_key(s)
    if kind == "github_id":
        return github_id_key(s)
    if kind == "activitypub":
        k = url_key(s)
        return _key("activitypub", k["url"], k["url"]) if k else None
    if kind == "bluesky_did" or (kind in (None, "bluesky") and s.startswith(("did:", "at://did:"))):
        return bluesky_did_key(s[5:].split("/", 1)[0] if s.startswith("at://") else s)

    looks_like_url = "/" in s or s.lower().startswith(("http:", "https:"))
    if not looks_like_url:
        if s.startswith("urn:li:"):
            return linkedin_urn_key(s)
        if kind == "mastodon" or (s.startswith("@") and s.count("@") == 2) or s.startswith("acct:"):
            return _mastodon_handle(s)
        if kind == "linkedin":
            return linkedin_key(s)
        if kind == "github":
            return github_key(s)
        if kind == "x":
            return x_key(s)
        if kind in HANDLE_KEYS:
            return HANDLE_KEYS[kind](s)
        if s.lower().startswith("mailto:") or ("@" in s and not s.startswith("@")):
            return email_key(s)
        if s.lower().startswith("tel:") or re.fullmatch(r"\+?[\d\s().\-]{6,}", s):
            return phone_key(s, region)
        if kind in (None, "url") and "." in s and "@" not in s and " " not in s:
            return url_key(s)
        return None

    if s.lower().startswith("mailto:"):
        return email_key(s)
    split = _split(s)
    if split is None:
        return None
    parts, host = split
    if parts.scheme.lower() not in ("http", "https"):
        return None
    finders = {
        "linkedin": lambda: _linkedin_from_url(parts, host),
        "github": lambda: _github_from_url(parts, host),
        "x": lambda: _x_from_url(parts, host),
        "mastodon": lambda: _mastodon_from_url(parts, host, explicit=kind == "mastodon"),
        "bluesky": lambda: _bluesky_from_url(parts, host),
        "instagram": lambda: _instagram_from_url(parts, host),
        "tiktok": lambda: _tiktok_from_url(parts, host),
        "dribbble": lambda: _dribbble_from_url(parts, host),
    }
    if kind in finders:
        return finders[kind]()
    if kind is None:
        for name in ("linkedin", "github", "x", "bluesky", "instagram", "tiktok", "dribbble", "mastodon"):
            found = finders[name]()
            if found:
                return found
    return url_key(s)


HANDLE_KEYS = {"bluesky": bluesky_key, "instagram": instagram_key, "tiktok": tiktok_key, "dribbble": dribbble_key}


def identities_for_url(url: str) -> list[dict]:
    """The identity keys a page URL implies: a profile URL gives its key, anything else its url key."""
    key = canonical_identity(url)
    return [key] if key else []


def name_similarity(a: str | None, b: str | None) -> float:
    """0..100 similarity of two person names, order- and case-insensitive (for merge suggestions)."""
    if not a or not b:
        return 0.0
    na = _name_norm(a)
    nb = _name_norm(b)
    if not na or not nb:
        return 0.0
    from rapidfuzz import fuzz

    return float(max(fuzz.token_sort_ratio(na, nb), fuzz.token_set_ratio(na, nb) * 0.95))


# Keys several people may share: a family's email, an office's phone, a company's web page. A person
# found by one of these is the key's owner only when their names agree (`same_person_name`).
SHARED_KINDS = frozenset({"email", "phone", "url"})
_NOT_A_NAME = re.compile(r"@|://|^www\.|^\+?[\d\s().\-]+$")


def same_person_name(a: str | None, b: str | None) -> bool:
    """Whether two names can be one person's: equal once accents, case and punctuation are gone,
    or one's words all found in the other's ("Grace Hopper" / "Rear Admiral Grace Brewster Hopper"),
    a single letter standing for a word ("J. Smith" / "John Smith"). A missing name, or an email,
    URL or number standing in for one, agrees with anything."""
    if not a or not b or _NOT_A_NAME.search(a.strip()) or _NOT_A_NAME.search(b.strip()):
        return True
    wa, wb = _name_norm(a).split(), _name_norm(b).split()
    if not wa or not wb:
        return True
    short, long = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    pool = list(long)
    for word in short:
        match = next(
            (
                w
                for w in pool
                if w == word or (len(word) == 1 and w.startswith(word)) or (len(w) == 1 and word.startswith(w))
            ),
            None,
        )
        if match is None:
            return False
        pool.remove(match)
    return True


def _name_norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^\w\s]", " ", s.lower())
    return " ".join(s.split())
