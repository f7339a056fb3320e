"""Generate a ~2 MB LinkedIn-like logged-in profile page for extraction benchmarks.

Real profile pages are mostly Voyager ``<code>`` islands (feed updates, mini profiles,
feature flags) plus a deep DOM; the one island about the profile sits somewhere in the
middle.  Output is deterministic (seeded), so benchmark runs compare like with like.

    python scripts/make_big_linkedin_page.py [OUT.html] [--size BYTES]
"""

from __future__ import annotations

import argparse
import html
import json
import random
import sys

SLUG = "jane-doe"
MEMBER = "ACoAAB9x2QjaNeD0e4kL7mN1pQ8rS5tU3vW6yZ"
URL = f"https://www.linkedin.com/in/{SLUG}/"

EXPECTED = {
    "name": "Jane Doe",
    "pronouns": "she/her",
    "headline": "Staff Engineer at Acme Robotics | Local-first, SQLite",
    "title": "Staff Engineer",
    "company": "Acme Robotics",
    "location": "London, England, United Kingdom",
}

_WORDS = (
    "robot fleet telemetry sqlite sync offline replica kafka latency release team hiring "
    "launch roadmap product customer data platform reliability incident postmortem design "
    "review mentoring career growth cloud edge cost migration python rust typescript"
).split()


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize() + "."


def _vector(root: str, stamp: int) -> dict:
    return {
        "$type": "com.linkedin.common.VectorImage",
        "rootUrl": root,
        "artifacts": [
            {
                "width": w,
                "height": w,
                "expiresAt": 1767225600000,
                "fileIdentifyingUrlPathSegment": f"{w}_{w}/0/{stamp}?e=1767225600&v=beta&t=x{w}",
            }
            for w in (100, 200, 400, 800)
        ],
    }


def _island(n: int, data: dict, request: str) -> str:
    body = html.escape(json.dumps(data, separators=(",", ":")), quote=True)
    datalet = html.escape(
        json.dumps(
            {"request": request, "status": 200, "body": f"bpr-guid-{n}", "method": "GET"}, separators=(",", ":")
        ),
        quote=True,
    )
    return (
        f'<code style="display: none" id="bpr-guid-{n}">\n  {body}\n</code>\n'
        f'<code style="display: none" id="datalet-bpr-guid-{n}">\n  {datalet}\n</code>\n'
    )


def _profile_island() -> dict:
    urn = f"urn:li:fsd_profile:{MEMBER}"
    return {
        "data": {
            "data": {
                "identityDashProfilesByMemberIdentity": {
                    "*elements": [urn],
                    "$type": "com.linkedin.restli.common.CollectionResponse",
                }
            }
        },
        "included": [
            {
                "$type": "com.linkedin.voyager.dash.identity.profile.Profile",
                "entityUrn": urn,
                "firstName": "Jane",
                "lastName": "Doe",
                "publicIdentifier": SLUG,
                "headline": EXPECTED["headline"],
                "summary": "I build local-first tools.\n\nAsk me about SQLite.",
                "pronoun": {"standardizedPronoun": "SHE_HER"},
                "geoLocation": {"*geo": "urn:li:fsd_geo:102257491", "geoUrn": "urn:li:fsd_geo:102257491"},
                "profilePicture": {
                    "displayImageReference": {
                        "vectorImage": _vector(
                            "https://media.licdn.com/dms/image/v2/D4E03AQJane/profile-displayphoto-shrink_",
                            1690000000000,
                        )
                    }
                },
                "backgroundPicture": {
                    "displayImageReference": {
                        "vectorImage": _vector(
                            "https://media.licdn.com/dms/image/v2/D4E16AQbg/profile-displaybackgroundimage-shrink_",
                            1690000000001,
                        )
                    }
                },
            },
            {
                "$type": "com.linkedin.voyager.dash.common.Geo",
                "entityUrn": "urn:li:fsd_geo:102257491",
                "defaultLocalizedName": EXPECTED["location"],
                "defaultLocalizedNameWithoutCountryName": "London, England",
            },
            {
                "$type": "com.linkedin.voyager.dash.identity.profile.Position",
                "entityUrn": f"urn:li:fsd_position:({MEMBER},2011223344)",
                "title": "Staff Engineer",
                "companyName": "Acme Robotics",
                "*company": "urn:li:fsd_company:2718281",
                "dateRange": {"start": {"month": 3, "year": 2022}},
            },
            {
                "$type": "com.linkedin.voyager.dash.identity.profile.Position",
                "entityUrn": f"urn:li:fsd_position:({MEMBER},1299887766)",
                "title": "Senior Engineer",
                "companyName": "Globex",
                "dateRange": {"start": {"month": 1, "year": 2018}, "end": {"month": 2, "year": 2022}},
            },
            {
                "$type": "com.linkedin.voyager.dash.organization.Company",
                "entityUrn": "urn:li:fsd_company:2718281",
                "name": "Acme Robotics",
                "universalName": "acme-robotics",
            },
        ],
    }


def _filler_island(rng: random.Random, i: int) -> dict:
    included = []
    for j in range(40):
        pid = f"person-{i}-{j}"
        mid = f"ACoAA{rng.randrange(10**12):012d}{i:03d}{j:02d}"
        included.append(
            {
                "$type": "com.linkedin.voyager.dash.identity.profile.Profile",
                "entityUrn": f"urn:li:fsd_profile:{mid}",
                "firstName": rng.choice(_WORDS).title(),
                "lastName": rng.choice(_WORDS).title(),
                "publicIdentifier": pid,
                "headline": _sentence(rng, 8),
                "profilePicture": {
                    "displayImageReference": {
                        "vectorImage": _vector(
                            f"https://media.licdn.com/dms/image/v2/C4E03AQ{i}x{j}/profile-displayphoto-shrink_",
                            1600000000000 + j,
                        )
                    }
                },
            }
        )
        included.append(
            {
                "$type": "com.linkedin.voyager.dash.feed.Update",
                "entityUrn": f"urn:li:fsd_update:(urn:li:activity:{7200000000000000000 + i * 100 + j},FEED)",
                "commentary": {"text": {"text": " ".join(_sentence(rng, 12) for _ in range(3))}},
                "actor": {"*profile": f"urn:li:fsd_profile:{mid}"},
                "socialDetail": {
                    "totalSocialActivityCounts": {"numLikes": rng.randrange(500), "numComments": rng.randrange(50)}
                },
            }
        )
    if i % 9 == 0:  # "people also viewed" islands mention the page's own slug too
        included.append(
            {
                "$type": "com.linkedin.voyager.dash.identity.profile.BrowseMap",
                "entityUrn": f"urn:li:fsd_browsemap:{i}",
                "viewee": SLUG,
            }
        )
    return {"data": {"*elements": [x["entityUrn"] for x in included[:5]]}, "included": included}


def _dom_card(rng: random.Random, i: int) -> str:
    """One feed card, nested and attribute-heavy the way Ember/artdeco markup is."""
    name = f"{rng.choice(_WORDS).title()} {rng.choice(_WORDS).title()}"
    return (
        f'<li class="artdeco-list__item profile-creator-shared-feed-update__container" id="ember{4000 + i}">'
        f'<div class="feed-shared-update-v2 feed-shared-update-v2--minimal-padding full-height relative artdeco-card" '
        f'data-urn="urn:li:activity:{7300000000000000000 + i}" role="article" tabindex="-1">'
        f'<div class="update-components-header"><div class="update-components-header__text-wrapper">'
        f'<span class="update-components-header__text-view"><a class="app-aware-link" href="/in/person-x-{i}/">'
        f"{name}</a> reposted this</span></div></div>"
        f'<div class="update-components-actor display-flex update-components-actor--with-control-menu">'
        f'<a class="app-aware-link update-components-actor__meta-link" href="https://www.linkedin.com/in/person-x-{i}/" '
        f'data-test-app-aware-link><div class="update-components-actor__image relative"><div class="ivm-image-view-model">'
        f'<div class="ivm-view-attr__img-wrapper display-flex"><img width="48" height="48" loading="lazy" '
        f'src="https://media.licdn.com/dms/image/v2/C4E03AQ{i}/profile-displayphoto-shrink_100_100/0/1600000000000" '
        f'alt="View {name}’s profile" class="ivm-view-attr__img--centered EntityPhoto-circle-3 evi-image lazy-image ember-view"></div>'
        f'</div></div><span class="update-components-actor__title"><span class="t-14 t-bold hoverable-link-text t-black">'
        f'<span dir="ltr"><span aria-hidden="true"><!---->{name}<!----></span><span class="visually-hidden">'
        f"<!---->View {name}’s profile<!----></span></span></span></span>"
        f'<span class="update-components-actor__description t-12 t-normal t-black--light">'
        f'<span aria-hidden="true"><!---->{_sentence(rng, 6)}<!----></span></span></a></div>'
        f'<div class="feed-shared-update-v2__description-wrapper"><div class="feed-shared-inline-show-more-text '
        f'feed-shared-update-v2__description feed-shared-inline-show-more-text--minimal-padding" tabindex="-1">'
        f'<div class="update-components-text relative update-components-update-v2__commentary">'
        f'<span class="break-words tvm-parent-container"><span dir="ltr">{_sentence(rng, 30)}<br><br>'
        f"{_sentence(rng, 20)}</span></span></div></div></div>"
        f'<div class="social-details-social-activity update-v2-social-activity"><ul class="social-details-social-counts">'
        f'<li class="social-details-social-counts__item"><button aria-label="{rng.randrange(900)} reactions" '
        f'class="social-details-social-counts__count-value t-black--light" type="button">'
        f'<span aria-hidden="true" class="social-details-social-counts__reactions-count">{rng.randrange(900)}</span>'
        f'</button></li><li class="social-details-social-counts__item social-details-social-counts__comments">'
        f'<button aria-label="{rng.randrange(90)} comments" type="button"><span aria-hidden="true">'
        f"{rng.randrange(90)} comments</span></button></li></ul></div>"
        f'<div class="feed-shared-social-action-bar"><span class="reactions-react-button"><button aria-label="React Like" '
        f'class="artdeco-button artdeco-button--muted artdeco-button--4 artdeco-button--tertiary" type="button">'
        f'<span class="artdeco-button__text">Like</span></button></span><button aria-label="Comment" '
        f'class="artdeco-button artdeco-button--muted" type="button"><span class="artdeco-button__text">Comment</span>'
        f"</button></div></div></li>\n"
    )


def make_page(size: int = 2_000_000, seed: int = 1) -> str:
    """The page as a string of about ``size`` bytes (UTF-8)."""
    rng = random.Random(seed)
    head = (
        '<!DOCTYPE html>\n<html lang="en" class="theme theme--mercado artdeco">\n<head>\n'
        '<meta charset="UTF-8"><meta name="pageKey" content="d_flagship3_profile_view_base">\n'
        "<title>(4) Jane Doe | LinkedIn</title>\n"
        "<script>" + "var _x=" + json.dumps([_sentence(rng, 10) for _ in range(300)]) + ";</script>\n"
        "<style>" + "".join(f".c{i}{{margin:{i % 7}px;padding:{i % 5}px}}" for i in range(3000)) + "</style>\n"
        '</head>\n<body class="render-mode-BIGPIPE">\n<main id="main" aria-label="Main content">\n'
        '<section class="artdeco-card pv-top-card"><div class="ph5">'
        '<img src="https://media.licdn.com/dms/image/v2/D4E03AQJane/profile-displayphoto-shrink_200_200/0/1690000000000" alt="Jane Doe">'
        '<h1 class="text-heading-xlarge">Jane Doe</h1>'
        f'<div class="text-body-medium break-words">{EXPECTED["headline"]}</div>'
        f'<span class="text-body-small">{EXPECTED["location"]}</span>'
        f'<a href="/in/{SLUG}/overlay/contact-info/">Contact info</a></div></section>\n'
        '<section class="artdeco-card"><h2><span aria-hidden="true">Activity</span></h2><ul>\n'
    )
    parts = [head]
    total = len(head)
    i = 0
    dom_budget = size * 0.5
    while total < dom_budget:
        card = _dom_card(rng, i)
        parts.append(card)
        total += len(card)
        i += 1
    parts.append("</ul></section>\n</main>\n")
    total += 30
    islands = []
    n = 0
    while total < size:
        island = _island(1000000 + n, _filler_island(rng, n), f"/voyager/api/feed/dash/updates?start={n * 40}")
        islands.append(island)
        total += len(island)
        n += 1
    islands.insert(
        len(islands) // 2,
        _island(
            999999, _profile_island(), f"/voyager/api/identity/dash/profiles?q=memberIdentity&memberIdentity={SLUG}"
        ),
    )
    parts.extend(islands)
    parts.append("</body>\n</html>\n")
    return "".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", help="output file (default: stdout)")
    parser.add_argument("--size", type=int, default=2_000_000, help="approximate size in bytes")
    args = parser.parse_args(argv)
    page = make_page(args.size)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(page)
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
