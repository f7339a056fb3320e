"""A realistic demo network, so a newcomer sees something on first run and benchmarks have data.

Deterministic: one `random.Random(seed)` drives everything, in a fixed order,
and dates count back from `as_of` (default today), so the same seed and day
give the same database. No Faker: small embedded word lists, with Zipf-weighted
choices so that companies, tags, topics and words are as unevenly spread as in
a real network (a few very common, a long tail of rare ones).

Speed: rows go in with executemany in large transactions while the
full-text indexes are switched off (sqlite-utils `disable_fts`), then the
indexes are rebuilt once with the schema's own `enable_fts` settings: 100,000
contacts with 1,000,000 messages take a few minutes, not hours.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
import unicodedata
import uuid
import zlib
from datetime import date, datetime, timedelta, timezone
from html import escape as html_escape
from typing import Callable

from sqlite_utils import Database

from .identity import canonical_identity
from .importers.bulk import gc_paused
from .store.schema import FTS, enable_search

DAY = 86_400
HISTORY_YEARS = 8
FLUSH_ROWS = 50_000

FIRST_NAMES = """
James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph
Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret
Donald Ashley Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa
George Deborah Timothy Stephanie Ronald Rebecca Jason Sharon Edward Laura Jeffrey Cynthia Ryan Dorothy Jacob
Amy Gary Kathleen Nicholas Angela Eric Shirley Jonathan Emma Stephen Brenda Larry Pamela Justin Nicole Scott
Anna Brandon Samantha Benjamin Katherine Samuel Christine Gregory Debra Alexander Rachel Patrick Carolyn Frank
Janet Raymond Maria Jack Olivia Dennis Heather Jerry Helen Tyler Catherine Aaron Diane Jose Julie Adam Victoria
Nathan Joyce Henry Lauren Zachary Kelly Douglas Christina Peter Ruth Kyle Joan Noah Virginia Ethan Judith
Jeremy Evelyn Christian Hannah Walter Andrea Keith Megan Austin Cheryl Roger Jacqueline Terry Madison Sean
Teresa Gerald Abigail Carl Sophia Dylan Martha Harold Sara Jordan Gloria Jesse Janice Bryan Kathryn Lawrence
Ann Arthur Isabella Gabriel Judy Bruce Charlotte Logan Julia Billy Grace Joe Amber Alan Alice Juan Jean Elijah
Denise Willie Frances Albert Danielle Wayne Marilyn Randy Natalie Mason Beverly Vincent Diana Liam Brittany
Roy Theresa Bobby Kayla Caleb Alexis Bradley Doris Russell Lori Lucas Tiffany Aisha Wei Mei Hiroshi Yuki
Sofía Mateo Lucía Santiago Valentina Diego Camila Joaquín Priya Arjun Ananya Rohan Fatima Omar Layla Youssef
Chloé Léa Louis Hugo Zoë Björn Astrid Lars Ingrid Sven Freya Mikael Anja Jonas Lena Felix Emilia Paul Marta
Kwame Amara Chidi Ngozi Tunde Zainab Kofi Ama Dmitri Olga Ivan Natasha Sergei Katya Siobhan Niamh Cian Aoife
Mateus Beatriz Thiago Larissa Jae Min-jun Seo-yeon Ji-ho Haruto Sakura Ren Aiko Linh Minh Thanh Nguyen
""".split()
LAST_NAMES = """
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis
Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera
Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart
Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim
Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo
Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry Russell Sullivan Bell Coleman Butler
Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton Graham Reynolds
Griffin Wallace Moreno West Cole Hayes Bryant Herrera Gibson Ellis Tran Medina Aguilar Stevens Murray Ford
Castro Marshall Owens Harrison Fernandez McDonald Woods Washington Kennedy Wells Vargas Henry Chen Freeman
Webb Tucker Guzman Burns Crawford Olson Simpson Porter Hunter Gordon Mendez Silva Shaw Snyder Mason Dixon
Muñoz Hunt Hicks Holmes Palmer Wagner Black Robertson Boyd Rose Stone Salazar Fox Warren Mills Meyer Rice
Schmidt Garza Daniels Ferguson Nichols Stephens Soto Weaver Ryan Gardner Payne Grant Dunn Kelley Spencer
Hawkins Arnold Pierce Vazquez Hansen Peters Santos Hart Bradley Knight Elliott Cunningham Duncan Armstrong
Hudson Carroll Lane Riley Andrews Alvarado Ray Delgado Berry Perkins Hoffman Johnston Matthews Peña
Müller Schneider Fischer Weber Becker Schulz Dubois Lefèvre Moreau Laurent Rossi Russo Bianchi Romano
Yamamoto Tanaka Suzuki Watanabe Takahashi Wang Li Zhang Liu Huang Zhao Sharma Gupta Singh Iyer Reddy
Okafor Adeyemi Mensah Boateng Nwosu Ivanova Petrov Sokolov O'Brien Byrne Kowalski Nowak Novák Horvat
Andersson Johansson Nilsson Larsen Jensen Hansen Virtanen Korhonen Costa Oliveira Pereira Almeida Park Choi
Ångström Núñez Þórsdóttir Çelik Yılmaz Kaya Haddad Khalil Nasser Mansour
""".split()
COMPANY_STEMS = """
Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Wonka Tyrell Cyberdyne Soylent Aperture Massive
Northwind Contoso Fabrikam Litware Proseware Adventure Blue Harbor Red Rock Silver Lake Bright Cedar Maple
Granite Summit Pioneer Horizon Beacon Meridian Atlas Orbit Quantum Vertex Nimbus Falcon Lumen Polar Harbor
Kestrel Sparrow Juniper Willow Cobalt Crimson Indigo Saffron Tidal Evergreen Keystone Lighthouse Riverbend
Copper Ironwood Starling Aurora Zephyr Fjord Sierra Mosaic Prism Canopy Anchor Compass Lattice Helix Nova
""".split()
COMPANY_SUFFIXES = """Labs Systems Health Capital Partners Analytics Robotics Foods Studio Bank Energy Logistics Media
Bio AI Cloud Works Group Ventures Software Networks Insurance Design Learning Mobility Security Games""".split()
FUNCTIONS = """Software Engineer|Product Manager|Designer|Data Scientist|Account Executive|Recruiter|Marketing Manager
|Engineering Manager|Research Scientist|Financial Analyst|Operations Manager|Customer Success Manager
|Sales Director|Founder|Partner|Consultant|Teacher|Nurse|Architect|Lawyer|Journalist|Writer|Photographer
|Chef|Physician|Product Designer|DevOps Engineer|Security Engineer|Investor
|Chief of Staff""".replace("\n", "").split("|")
SENIORITY = ["", "", "", "Senior ", "Senior ", "Staff ", "Lead ", "Principal ", "Junior "]
UNRANKED = {
    "Founder",
    "Partner",
    "Investor",
    "Chief of Staff",
    "Teacher",
    "Nurse",
    "Physician",
    "Chef",
    "Lawyer",
    "Journalist",
    "Writer",
    "Photographer",
    "Consultant",
    "Recruiter",
}
CITIES = """San Francisco Bay Area|New York City|London|Berlin|Paris|Amsterdam|Toronto|Seattle|Austin|Boston
|Chicago|Los Angeles|Stockholm|Copenhagen|Dublin|Lisbon|Barcelona|Madrid|Zurich|Munich|Tokyo|Singapore
|Sydney|Melbourne|Bangalore|Mumbai|São Paulo|Mexico City|Buenos Aires|Lagos|Nairobi|Cape Town|Tel Aviv
|Warsaw|Prague|Vienna|Helsinki|Oslo|Montreal|Vancouver|Denver|Atlanta|Miami|Portland|Edinburgh|Manchester
|Seoul|Hong Kong|Dubai|Istanbul""".replace("\n", "").split("|")
TAGS = [
    ("friends", None),
    ("ex-colleague", None),
    ("mentor", 60),
    ("investor", 90),
    ("college", None),
    ("family", 14),
    ("founder", None),
    ("recruiter", None),
    ("conference", None),
    ("climbing", None),
    ("book-club", None),
    ("neighbour", None),
    ("hiring", None),
    ("advisor", 45),
    ("close-friends", 21),
    ("design", None),
    ("machine-learning", None),
    ("open-source", None),
    ("running", None),
    ("podcast", None),
    ("angel", None),
    ("board", 30),
    ("kids-school", None),
    ("volunteering", None),
    ("alumni", None),
    ("music", None),
    ("cycling", None),
    ("startup", None),
    ("press", None),
    ("chess", None),
]
TOPICS = """the fundraise|hiring|the new role|the kids|marathon training|Rust|pricing|the board meeting|the move
|the product launch|the conference talk|climbing|the book|remote work|the reorg|the seed round|burnout|the podcast
|the house renovation|the garden|sourdough|the wedding|the offsite|the migration to Postgres|LLMs|the roadmap
|onboarding|the trip to Japan|the side project|the sabbatical|the team|the acquisition|open source|the newsletter
|the bike ride|the promotion|visa paperwork|the thesis|the exhibition|jazz|the dog|chess|the school play
|the job search|the pivot|customer interviews|the audit|the bootcamp|the grant
|the hackathon""".replace("\n", "").split("|")
EVENTS = """the meetup|the conference|Sarah's party|the wedding|the offsite|the hackathon|the dinner|the alumni event
|the workshop|the launch party|the book club|the climbing gym|the school gate|the coworking space|the retreat
|the demo day|the panel|the reunion|the summit|the airport lounge""".replace("\n", "").split("|")
THINGS = """the article|the podcast episode|the book|the deck|the report|the paper|the recipe|the playlist|the video
|the job description|the spreadsheet|the slides|the photos|the link|the draft|the contract|the newsletter
|the thread|the repo|the invite""".replace("\n", "").split("|")
PLACES = "the office|downtown|the station|the park|your place|the café on Main St|the harbour|campus".split("|")
MEALS = "coffee|lunch|breakfast|dinner|a drink|a walk|a quick call|a video call".split("|")
DAYS = "tomorrow|on Monday|on Tuesday|on Wednesday|on Thursday|on Friday|this weekend|next week|later today".split("|")
EXCUSES = """it's been a hectic week|I was travelling|the kids were sick|we had a launch|my inbox exploded
|I was offline for a few days""".replace("\n", "").split("|")
REACTIONS = "that's hilarious|love it|so true|no way|exactly what I thought|amazing news".split("|")
MESSAGES = [
    "Hi {first}, great to see you at {event}!",
    "Thanks for the intro to {other}, we're meeting {day}.",
    "Are you free for {meal} {day}? I'll be near {place}.",
    "Congrats on the new role at {company}!",
    "Quick question about {topic}: do you have ten minutes this week?",
    "I read {thing} you sent and loved it.",
    "Sorry for the slow reply, {excuse}.",
    "Let's catch up soon. How is {topic} going?",
    "Sending you {thing} I mentioned.",
    "Can you recommend someone for a {role} role?",
    "We're hiring a {role} at {company}, know anyone?",
    "Sounds good, see you {day}.",
    "Ha, {reaction}!",
    "Thanks so much, really appreciate it.",
    "Happy birthday, {first}! Hope this year is a great one.",
    "Any news on {topic}?",
    "Just landed, want to grab {meal} {day}?",
    "Did you see {thing} about {company}?",
    "I'd love your take on {topic} when you have a moment.",
    "Running ten minutes late, sorry!",
    "Good luck with {topic} {day}!",
    "Thanks for {meal}, it was great to catch up.",
    "Following up on {topic}: here is {thing}.",
    "Can we move our call to {day}?",
]
NOTES = [
    "Met at {event}. Works on {topic} at {company}.",
    "Interested in {topic} and {topic2}.",
    "Prefers messages over email; best reached {day}.",
    "Introduced me to {other}.",
    "Follow up about {topic} next month.",
    "Moved to {city} last year.",
    "Good person to ask about {topic}.",
    "Has two kids; the eldest just started school.",
    "Owes me {thing}; I owe them an intro to {other}.",
    "Talked about {topic} over {meal}. Wants to hear back about {topic2}.",
    "Vegetarian. Loves {hobby}.",
    "Thinking about leaving {company}; might be open to {role} roles.",
    "Sent {thing} after {event}.",
    "Birthday dinner at {place} was fun.",
    "Ask how {topic} went.",
    "Was very helpful with {topic}.",
]
HOBBIES = "climbing|sourdough|jazz|running|chess|sailing|pottery|cycling|board games|birdwatching".split("|")
EXCHANGE_KINDS = {
    "intro": "Introduction to {other}",
    "advice": "Advice on {topic}",
    "referral": "Referral for a {role} role",
    "favor": "Helped with {topic}",
    "gift": "Sent {thing}",
    "recommendation": "Recommendation on LinkedIn",
    "feedback": "Feedback on {thing}",
}
INTERACTION_KINDS = ["coffee", "call", "met", "lunch", "video call", "email", "dinner", "conference", "walk"]
CHANNELS = {
    "professional": ["linkedin", "linkedin", "email"],
    "personal": ["whatsapp", "sms", "email", "signal"],
    "both": ["linkedin", "whatsapp", "email", "sms"],
}
# (label, yearly, with a year) for the demo's dated notes.
DATED_NOTES = [
    ("Wedding anniversary", True, True),
    ("Work anniversary", True, True),
    ("Name day", True, False),
    ("Visa renewal", False, True),
    ("Kid's birthday", True, False),
    ("Passport renewal", False, True),
]
HOW_MET = [
    "college",
    "a conference",
    "work",
    "an intro",
    "the climbing gym",
    "a meetup",
    "the neighbourhood",
    "a friend's party",
    "the kids' school",
    "an online community",
]


def _zipf(n: int, s: float = 1.07) -> list[float]:
    """Cumulative Zipf weights for ranks 1..n, for random.choices(cum_weights=...)."""
    return list(itertools.accumulate(1 / (rank**s) for rank in range(1, n + 1)))


def _ascii(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and (c.isalnum() or c in " -"))


def _iso(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class _Text:
    """Sentences from Zipf-weighted templates whose slots are filled only when used."""

    def __init__(self, rng: random.Random, companies: list[str]):
        self.rng = rng
        self.choices = rng.choices
        pools = {
            "event": EVENTS,
            "topic": TOPICS,
            "topic2": TOPICS,
            "thing": THINGS,
            "place": PLACES,
            "meal": MEALS,
            "day": DAYS,
            "excuse": EXCUSES,
            "reaction": REACTIONS,
            "city": CITIES,
            "hobby": HOBBIES,
            "role": FUNCTIONS,
            "company": companies,
        }
        self.pools = {k: (v, _zipf(len(v))) for k, v in pools.items()}
        self.first = ""
        self.other = ""

    def slot(self, name: str) -> str:
        if name == "first":
            return self.first
        if name == "other":
            return self.other
        values, weights = self.pools[name]
        return self.choices(values, cum_weights=weights)[0]

    def sentences(self, templates: list[str], weights: list[float], count: int) -> str:
        chosen = self.choices(templates, cum_weights=weights, k=count)
        return " ".join(t.format_map(_Slots(self)) for t in chosen)


class _Slots(dict):
    def __init__(self, text: _Text):
        super().__init__()
        self.text = text

    def __missing__(self, key):
        value = self.text.slot(key)
        self[key] = value
        return value


def company_names(rng: random.Random, n: int = 300) -> list[str]:
    """Plausible, clearly fictional company names ("Northwind Analytics"), in a seeded order."""
    names = [f"{stem} {suffix}" for stem in COMPANY_STEMS for suffix in COMPANY_SUFFIXES]
    rng.shuffle(names)
    return names[:n]


def _refuse_non_empty(db: Database) -> None:
    if db.execute("SELECT count(*) FROM contacts").fetchone()[0]:
        raise ValueError(
            "this database already has contacts; the demo only fills a new, empty database"
            " (it must never mix with your real network)"
        )


def generate(
    db: Database,
    contacts: int = 1000,
    seed: int = 1,
    messages: int | None = None,
    notes: int | None = None,
    as_of: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Fill an empty database with a demo network; returns row counts per table.

    `contacts` includes the user's own contact (is_me=1). Messages default to
    10 per contact and notes to 3 per contact.
    """
    _refuse_non_empty(db)
    if contacts < 2:
        raise ValueError("a demo network needs at least 2 contacts")
    messages = 10 * contacts if messages is None else messages
    notes = 3 * contacts if notes is None else notes
    end_day = date.fromisoformat(as_of) if as_of else datetime.now(timezone.utc).date()
    end = datetime(end_day.year, end_day.month, end_day.day, 18, tzinfo=timezone.utc).timestamp()
    builder = _Builder(db, random.Random(seed), end)
    db.execute("PRAGMA synchronous = OFF")  # a demo can be regenerated; speed matters more
    db.execute("PRAGMA cache_size = -131072")
    for table in FTS:
        db[table].disable_fts()
    try:
        with gc_paused():
            _build(builder, contacts, notes, messages, progress)
    finally:
        for table in FTS:
            enable_search(db, table)
        _tick(progress)
    names = (
        "contacts",
        "identities",
        "tags",
        "contact_tags",
        "relationships",
        "interactions",
        "exchanges",
        "profile_changes",
        "notes",
        "messages",
        "dated_notes",
        "merge_suggestions",
    )
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in names}


def _build(builder: "_Builder", contacts: int, notes: int, messages: int, progress) -> None:
    """The tables in a fixed order: the random stream, and so the network, depends on it."""
    for step in (
        lambda: builder.people(contacts),
        builder.relationships_and_history,
        lambda: builder.notes(notes),
        lambda: builder.messages(messages),
    ):
        step()
        _tick(progress)
    builder.daily_loop()
    builder.finish()


def _tick(progress):
    if progress:
        progress(1)


class _Builder:
    """Generates and writes the network table by table, in a fixed order (determinism)."""

    def __init__(self, db: Database, rng: random.Random, end: float):
        self.db = db
        self.conn = db.conn
        self.rng = rng
        self.end = end
        self.start = end - HISTORY_YEARS * 365 * DAY
        self.companies = company_names(rng)
        self.text = _Text(rng, self.companies)
        self.people_rows: list[dict] = []
        self.last: dict[int, float] = {}
        self.message_w = _zipf(len(MESSAGES), 0.9)
        self.note_w = _zipf(len(NOTES), 0.9)

    def _write(self, sql: str, rows: list) -> None:
        with self.db.atomic():
            self.conn.executemany(sql, rows)

    def _seen(self, cid: int, ts: float) -> None:
        if ts > self.last.get(cid, 0):
            self.last[cid] = ts

    # -- people ------------------------------------------------------------------------------

    def people(self, n: int) -> None:
        rng = self.rng
        company_w = _zipf(len(self.companies), 1.0)
        city_w = _zipf(len(CITIES), 1.1)
        tag_w = _zipf(len(TAGS), 0.9)
        used_slugs: set[str] = set()
        contacts, identities, tagged = [], [], []
        for cid in range(1, n + 1):
            me = cid == 1
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            circle = None if me else rng.choices(("professional", "personal", "both"), (55, 25, 20))[0]
            company = (
                rng.choices(self.companies, cum_weights=company_w)[0]
                if me or circle != "personal" or rng.random() < 0.5
                else None
            )
            role = rng.choice(FUNCTIONS)
            title = ((rng.choice(SENIORITY) if role not in UNRANKED else "") + role) if company else None
            location = rng.choices(CITIES, cum_weights=city_w)[0]
            created = self.start + rng.random() * (self.end - self.start) * 0.9
            headline = f"{title} at {company}" if company and rng.random() < 0.8 else None
            if headline and rng.random() < 0.25:
                headline += f" | ex-{rng.choices(self.companies, cum_weights=company_w)[0]}"
            birthday = None
            if rng.random() < 0.3:
                md = f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
                birthday = f"--{md}" if rng.random() < 0.4 else f"{rng.randint(1955, 2002)}-{md}"
            row = {
                "id": cid,
                "name": f"{first} {last}",
                "given_name": first,
                "family_name": last,
                "headline": headline,
                "company": company,
                "title": title,
                "location": location,
                "bio": f"{role} in {location}. Into {rng.choice(HOBBIES)} and "
                f"{rng.choice(TOPICS).removeprefix('the ')}."
                if rng.random() < 0.2
                else None,
                "circle": circle,
                "how_met": None if me else rng.choice(HOW_MET),
                "keep_in_touch_days": rng.choice((14, 30, 60, 90, 180)) if not me and rng.random() < 0.06 else None,
                "pronouns": rng.choice(("she/her", "he/him", "they/them")) if rng.random() < 0.1 else None,
                "birthday": birthday,
                "is_me": int(me),
                "created_at": _iso(created),
                "updated_at": _iso(created),
                "snoozed_until": None,
            }
            if not me and rng.random() < 0.01:
                row["snoozed_until"] = _iso(self.end + rng.randint(7, 90) * DAY)[:10]
            contacts.append(row)
            self.people_rows.append(
                {
                    "id": cid,
                    "first": first,
                    "name": row["name"],
                    "company": company,
                    "circle": circle or "both",
                    "created": created,
                    "role": role,
                }
            )
            slug = _ascii(f"{first}-{last}").lower().replace(" ", "-")
            if me or circle != "personal" or rng.random() < 0.3:
                handle = slug if slug not in used_slugs else f"{slug}-{rng.getrandbits(24):06x}"
                used_slugs.add(handle)
                identities.append(
                    (cid, canonical_identity(f"https://www.linkedin.com/in/{handle}", kind="linkedin"), "demo")
                )
            if me or rng.random() < 0.6:
                domain = (
                    (_ascii(company).lower().replace(" ", "") + ".example")
                    if company and rng.random() < 0.6
                    else rng.choice(("example.com", "example.org", "mail.example.net"))
                )
                key = canonical_identity(f"{slug.replace('-', '.')}.{cid}@{domain}", kind="email")
                identities.append((cid, key, "demo"))
            if circle in ("personal", "both") and rng.random() < 0.6:
                number = f"+1 {rng.randint(201, 989)} 555 {rng.randint(100, 199):04d}"
                identities.append((cid, canonical_identity(number, kind="phone"), "demo"))
            if role.endswith("Engineer") and rng.random() < 0.5:
                identities.append((cid, canonical_identity(f"{slug}{cid}", kind="github"), "demo"))
            if rng.random() < 0.15:
                identities.append(
                    (cid, canonical_identity(f"{slug.replace('-', '_')[:10]}{cid % 100000}", kind="x"), "demo")
                )
            if rng.random() < 0.05:
                identities.append(
                    (cid, canonical_identity(f"@{slug.replace('-', '')}{cid}@mastodon.social", kind="mastodon"), "demo")
                )
            if not me:
                how_many = rng.choice((0, 0, 1, 1, 2, 3))
                for tag_index in sorted(set(rng.choices(range(len(TAGS)), cum_weights=tag_w, k=how_many))):
                    tagged.append((cid, tag_index + 1))
        columns = list(contacts[0])
        self._write(
            f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})", contacts
        )
        seen_keys: set = set()
        rows = []
        for cid, key, source in identities:
            if key and (key["kind"], key["value"]) not in seen_keys:
                seen_keys.add((key["kind"], key["value"]))
                rows.append((cid, key["kind"], key["value"], key["url"], source))
        self._write("INSERT INTO identities (contact_id, kind, value, url, source) VALUES (?, ?, ?, ?, ?)", rows)
        self._write(
            "INSERT INTO tags (id, name, keep_in_touch_days) VALUES (?, ?, ?)",
            [(i, name, days) for i, (name, days) in enumerate(TAGS, 1)],
        )
        self._write("INSERT INTO contact_tags (contact_id, tag_id) VALUES (?, ?)", tagged)

    def _person(self, exclude: int | None = None) -> dict:
        others = self.people_rows
        while True:
            p = others[self.rng.randrange(1, len(others))]  # never index 0 (the user)
            if p["id"] != exclude or len(others) < 3:
                return p

    def _when(self, person: dict, recent: float = 0.0) -> float:
        """A moment between meeting the person and the end, skewed to recent when asked."""
        r = self.rng.random()
        if recent:
            r = r ** (1 - recent)
        return person["created"] + r * (self.end - person["created"])

    # -- relationships, interactions, give/take, job changes ------------------------------------

    def relationships_and_history(self) -> None:
        rng, people = self.rng, self.people_rows[1:]
        text = self.text
        relationships = set()
        by_company: dict[str, list[int]] = {}
        for p in people:
            if p["company"]:
                by_company.setdefault(p["company"], []).append(p["id"])
            if rng.random() < 0.15 and len(people) > 2:
                other = self._person(p["id"])
                relationships.add((p["id"], other["id"], "introduced_by", f"Introduced at {rng.choice(EVENTS)}"))
            if rng.random() < 0.5 and len(people) > 2:
                other = self._person(p["id"])
                relationships.add((p["id"], other["id"], "knows", None))
        for ids in by_company.values():
            for a, b in zip(ids, ids[1:]):
                if rng.random() < 0.6:
                    relationships.add((a, b, "works_with", None))
        # The user knows some people directly, so "how do I know X?" finds paths.
        me_id = self.people_rows[0]["id"]
        for p in people:
            if rng.random() < 0.03:
                relationships.add((me_id, p["id"], "knows", None))
        self._write(
            "INSERT OR IGNORE INTO relationships (from_contact_id, to_contact_id, kind, note) VALUES (?, ?, ?, ?)",
            sorted(relationships, key=lambda r: (r[0], r[1], r[2])),
        )

        interactions, exchanges, changes = [], [], []
        for p in people:
            cid = p["id"]
            interactions.append((cid, "connected", _iso(p["created"]), "Connected"))
            self._seen(cid, p["created"])
            for _ in range(min(int(rng.paretovariate(1.3)) - 1, 60)):
                ts = self._when(p, recent=0.3)
                text.first, text.other = p["first"], self._person(cid)["name"]
                summary = text.sentences(NOTES, self.note_w, 1) if rng.random() < 0.5 else None
                interactions.append((cid, rng.choice(INTERACTION_KINDS), _iso(ts), summary))
                self._seen(cid, ts)
            if rng.random() < 0.12:
                for _ in range(rng.randint(1, 5)):
                    kind = rng.choice(list(EXCHANGE_KINDS))
                    text.other = self._person(cid)["name"]
                    description = EXCHANGE_KINDS[kind].format_map(_Slots(text))
                    exchanges.append((cid, rng.choice(("gave", "received")), kind, description, _iso(self._when(p))))
            if p["company"] and rng.random() < 0.03:
                at = _iso(self.end - rng.random() * 730 * DAY)
                old = rng.choice(self.companies)
                if old != p["company"]:
                    changes.append((cid, "company", old, p["company"], at))
                    old_title = p["role"] if p["role"] in UNRANKED else rng.choice(SENIORITY[5:]) + p["role"]
                    changes.append((cid, "title", old_title, None, at))
        self._write(
            "INSERT INTO interactions (contact_id, kind, happened_at, summary) VALUES (?, ?, ?, ?)", interactions
        )
        self._write(
            "INSERT INTO exchanges (contact_id, direction, kind, description, happened_at) VALUES (?, ?, ?, ?, ?)",
            exchanges,
        )
        titles = dict(self.db.execute("SELECT id, title FROM contacts WHERE company IS NOT NULL").fetchall())
        changes = [(c, f, o, n if n is not None else titles.get(c), at) for c, f, o, n, at in changes]
        self._write(
            "INSERT INTO profile_changes (contact_id, field, old_value, new_value, detected_at) VALUES (?, ?, ?, ?, ?)",
            changes,
        )

    # -- notes and messages ------------------------------------------------------------------------

    def _spread(self, total: int, skew: float) -> list[int]:
        """How many of `total` items each contact gets: Zipf over a shuffled order of people."""
        people = list(range(1, len(self.people_rows)))
        self.rng.shuffle(people)
        weights = _zipf(len(people), skew)
        counts = [0] * len(self.people_rows)
        for index in self.rng.choices(range(len(people)), cum_weights=weights, k=total):
            counts[people[index]] += 1
        return counts

    def notes(self, total: int) -> None:
        rng, text = self.rng, self.text
        counts = self._spread(total, 0.7)
        sql = "INSERT INTO notes (contact_id, body, created_at) VALUES (?, ?, ?)"
        batch = []
        for index, count in enumerate(counts):
            if not count:
                continue
            p = self.people_rows[index]
            text.first = p["first"]
            for ts in sorted(self._when(p, recent=0.2) for _ in range(count)):
                text.other = self._person(p["id"])["name"]
                batch.append((p["id"], text.sentences(NOTES, self.note_w, rng.choice((1, 1, 2, 2, 3, 4))), _iso(ts)))
                self._seen(p["id"], ts)
            if len(batch) >= FLUSH_ROWS:
                self._write(sql, batch)
                batch = []
        self._write(sql, batch)

    def messages(self, total: int) -> None:
        rng, text = self.rng, self.text
        me = self.people_rows[0]["name"]
        counts = self._spread(total, 0.9)
        sql = (
            "INSERT INTO messages (contact_id, direction, sender, sent_at, body, channel, thread_url)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        batch = []
        for index, count in enumerate(counts):
            if not count:
                continue
            p = self.people_rows[index]
            text.first = p["first"]
            channel = rng.choice(CHANNELS[p["circle"]])
            thread = None
            if channel == "linkedin":
                digest = hashlib.sha1(f"{p['id']}:{p['name']}".encode()).hexdigest()[:22]
                thread = f"https://www.linkedin.com/messaging/thread/2-{digest}/"
            outgoing = rng.random() < 0.5
            for ts in sorted(self._when(p, recent=0.4) for _ in range(count)):
                if rng.random() < 0.6:
                    outgoing = not outgoing
                text.other = self._person(p["id"])["name"]
                body = text.sentences(MESSAGES, self.message_w, rng.choice((1, 1, 1, 2, 2, 3)))
                batch.append(
                    (
                        p["id"],
                        "out" if outgoing else "in",
                        me if outgoing else p["name"],
                        _iso(ts),
                        body,
                        channel,
                        thread,
                    )
                )
                self._seen(p["id"], ts)
            if len(batch) >= FLUSH_ROWS:
                self._write(sql, batch)
                batch = []
        self._write(sql, batch)

    # -- what the Today page has to show on the demo's last day ------------------------------------

    def daily_loop(self) -> None:
        """Job changes in the last weeks, birthdays and other dates in the next two, and
        duplicates to merge, so Today has something in every section. Drawn last, from the same
        seeded stream, so the rest of the network is what it would be without them."""
        rng, people = self.rng, self.people_rows[1:]
        if len(people) < 4:
            return
        end_day = datetime.fromtimestamp(self.end, timezone.utc).date()
        used: set[int] = set()

        def pick(pool: list[dict], k: int) -> list[dict]:
            pool = [p for p in pool if p["id"] not in used]
            chosen = rng.sample(pool, min(k, len(pool)))
            used.update(p["id"] for p in chosen)
            return chosen

        # Job changes seen in the last 25 days, by people you have not spoken to since.
        quiet = [p for p in people if p["company"] and self.last.get(p["id"], 0) < self.end - 45 * DAY]
        titles = dict(self.db.execute("SELECT id, title FROM contacts WHERE company IS NOT NULL").fetchall())
        changes = []
        for p in pick(quiet, max(2, len(people) // 250)):
            at = _iso(self.end - rng.uniform(1, 25) * DAY)
            old = rng.choice([c for c in self.companies[:40] if c != p["company"]])
            changes.append((p["id"], "company", old, p["company"], at))
            old_title = p["role"] if p["role"] in UNRANKED else rng.choice(SENIORITY[:5]) + p["role"]
            if old_title != titles.get(p["id"]):
                changes.append((p["id"], "title", old_title, titles.get(p["id"]), at))
        self._write(
            "INSERT INTO profile_changes (contact_id, field, old_value, new_value, detected_at) VALUES (?, ?, ?, ?, ?)",
            changes,
        )

        def soon() -> date:
            return end_day + timedelta(days=rng.randint(0, 13))

        # Birthdays in the next two weeks (some without a year, as address books often have them).
        birthdays = []
        for p in pick(people, max(3, len(people) // 150)):
            day = soon()
            birthdays.append(
                (f"{rng.randint(1960, 2001)}-{day:%m-%d}" if rng.random() < 0.7 else f"--{day:%m-%d}", p["id"])
            )
        self._write("UPDATE contacts SET birthday = ? WHERE id = ?", birthdays)

        # Other dates worth remembering: a few soon, most later in the year.
        dates = []
        for p in pick(people, max(4, len(people) // 100)):
            label, yearly, with_year = rng.choice(DATED_NOTES)
            day = soon() if rng.random() < 0.4 else end_day + timedelta(days=rng.randint(14, 364))
            when = (
                f"{day.year if not yearly else rng.randint(1995, end_day.year - 1)}-{day:%m-%d}"
                if with_year
                else f"--{day:%m-%d}"
            )
            dates.append((p["id"], label, when, int(yearly), _iso(self.start + rng.random() * (self.end - self.start))))
        self._write(
            "INSERT INTO dated_notes (contact_id, label, date, yearly, created_at) VALUES (?, ?, ?, ?, ?)", dates
        )

        # Duplicates: someone saved twice, the second time from an address book (no LinkedIn,
        # GitHub or X key, which would prove them different), each record with its own history.
        single = {
            r[0]
            for r in self.db.execute(
                "SELECT DISTINCT contact_id FROM identities WHERE kind IN ('linkedin', 'github', 'x')"
            )
        }
        originals = pick([p for p in people if p["company"]], max(2, len(people) // 400))
        copies = pick([p for p in people if p["id"] not in single], len(originals))
        renamed, suggestions = [], []
        for original, copy in zip(originals, copies):
            row = self.db.execute(
                "SELECT name, given_name, family_name, company, title FROM contacts WHERE id = ?", [original["id"]]
            ).fetchone()
            renamed.append((*row, copy["id"]))
            low, high = sorted((original["id"], copy["id"]))
            suggestions.append(
                (
                    low,
                    high,
                    100.0,
                    "similar name (100%) and the same company",
                    _iso(self.end - rng.uniform(0, 10) * DAY),
                )
            )
            copy.update(name=row[0], first=row[1], company=row[3])
        self._write(
            "UPDATE contacts SET name = ?, given_name = ?, family_name = ?, company = ?, title = ?,"
            " headline = NULL WHERE id = ?",
            renamed,
        )
        self._write(
            "UPDATE messages SET sender = ? WHERE contact_id = ? AND direction = 'in'", [(r[0], r[-1]) for r in renamed]
        )
        self._write(
            "INSERT INTO merge_suggestions (contact_id, other_contact_id, score, reason, status, created_at)"
            " VALUES (?, ?, ?, ?, 'open', ?)",
            suggestions,
        )
        self._captures(pick(people, 6))

    def _captures(self, chosen: list[dict]) -> None:
        """Profiles saved from the browser this week; the last one's extraction timed out, so it is
        stored unparsed with its page, which today's extractors read (the Re-extract button)."""
        rng, rows, identities = self.rng, [], []
        for index, p in enumerate(chosen):
            at = _iso(self.end - rng.uniform(0.1, 6) * DAY)
            slug = _ascii(p["name"]).lower().replace(" ", "-")
            url = f"https://{slug}.example/"
            contact = [
                html_escape(v) if v else v
                for v in self.db.execute("SELECT name, title, company FROM contacts WHERE id = ?", [p["id"]]).fetchone()
            ]
            html = (
                f'<html><head><title>{contact[0]}</title></head><body><div class="h-card">'
                f'<a class="p-name u-url" href="{url}">{contact[0]}</a>'
                + (f' <span class="p-job-title">{contact[1]}</span>' if contact[1] else "")
                + (f' at <span class="p-org">{contact[2]}</span>' if contact[2] else "")
                + "</div></body></html>"
            )
            unparsed = index == len(chosen) - 1
            capture_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            payload = json.dumps({"capture_id": capture_id, "kind": "profile", "url": url, "title": contact[0]})
            rows.append(
                (
                    capture_id,
                    "profile",
                    url,
                    contact[0],
                    at,
                    at,
                    p["id"],
                    zlib.compress(html.encode(), 1),
                    hashlib.sha256(html.encode()).hexdigest(),
                    "generic",
                    "unparsed" if unparsed else "parsed",
                    hashlib.sha256(payload.encode()).hexdigest(),
                    payload,
                    "extraction timed out" if unparsed else None,
                )
            )
            key = canonical_identity(url)
            if (
                key
                and not self.db.execute(
                    "SELECT 1 FROM identities WHERE kind = ? AND value = ?", [key["kind"], key["value"]]
                ).fetchone()
            ):
                identities.append((p["id"], key["kind"], key["value"], key["url"], "page"))
        self._write(
            "INSERT INTO captures (id, kind, url, title, captured_at, received_at, contact_id, html,"
            " html_sha256, extractor, status, payload_sha256, payload, error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        self._write("INSERT INTO identities (contact_id, kind, value, url, source) VALUES (?, ?, ?, ?, ?)", identities)

    def finish(self) -> None:
        self._write(
            "UPDATE contacts SET last_interaction_at = ? WHERE id = ?",
            [(_iso(ts), cid) for cid, ts in sorted(self.last.items())],
        )
