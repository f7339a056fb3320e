"""The network graph and "how do I know X?", in SQL.

People are nodes; relationships are edges; people who share an organisation
are joined through one hub node per organisation (n edges, not n² - so a
company of 300 does not turn into 45,000 lines). Neighbourhoods and shortest
paths walk `relationships` in both directions with recursive CTEs, breadth
first, stopping early: the graph can be large but a query only touches the
part it needs.
"""

from __future__ import annotations

import json
import sqlite3

from .queries import me_id, rows

DEFAULT_NODES = 2000
MAX_NODES = 5000
MAX_DEPTH = 4
PATH_MAX_DEPTH = 6
SIDE_CAP = 50_000  # paths one side of a "how do I know" search may hold

_OTHER = "CASE WHEN r.from_contact_id = {w}.id THEN r.to_contact_id ELSE r.from_contact_id END"

NEIGHBOURHOOD_SQL = f"""
WITH RECURSIVE hood(id, depth) AS (
  SELECT :center, 0
  UNION
  SELECT {_OTHER.format(w="h")}, h.depth + 1
  FROM hood h JOIN relationships r ON r.from_contact_id = h.id OR r.to_contact_id = h.id
  WHERE h.depth < :depth
  LIMIT :cap
)
SELECT id, min(depth) AS depth FROM hood GROUP BY id ORDER BY depth, id
"""

# "How do I know X?" walks from both ends at once and meets in the middle: every
# path of up to six hops is some path of <= 3 from me joined to one of <= 3 from X,
# so the search touches about b^3 paths per side instead of b^6.
_WALK = """{name}(id, depth, path, kinds) AS (
  SELECT :{start}, 0, ',' || :{start} || ',', ''
  UNION ALL
  SELECT {other}, w.depth + 1, w.path || {other} || ',', w.kinds || r.kind || char(31)
  FROM {name} w JOIN relationships r ON r.from_contact_id = w.id OR r.to_contact_id = w.id
  WHERE w.depth < :{start}_depth AND instr(w.path, ',' || {other} || ',') = 0
  ORDER BY 2 LIMIT {cap}
)"""
PATH_SQL = (
    "WITH RECURSIVE "
    + _WALK.format(name="fwd", start="a", other=_OTHER.format(w="w"), cap=SIDE_CAP)
    + ",\n"
    + _WALK.format(name="bwd", start="b", other=_OTHER.format(w="w"), cap=SIDE_CAP)
    + """
SELECT f.path, f.kinds, b.path, b.kinds FROM fwd f JOIN bwd b ON b.id = f.id
ORDER BY f.depth + b.depth, f.depth LIMIT 1
"""
)


FILTER_SQL = {
    "tag": "c.id IN (SELECT ct.contact_id FROM contact_tags ct JOIN tags t ON t.id = ct.tag_id"
    " WHERE t.name = :tag COLLATE NOCASE)",
    "circle": "c.circle = :circle",
}

NODES_SQL = """
SELECT c.id, c.name AS label, c.circle, c.company, c.avatar_url, c.is_me
FROM contacts c WHERE c.id IN (SELECT value FROM json_each(:ids))
"""

# `+r.to_contact_id` keeps SQLite from probing the (from, to) index with every pair of
# nodes (n² lookups); it walks each node's outgoing edges and checks the far end instead.
EDGES_SQL = """
WITH n(id) AS (SELECT value FROM json_each(:ids))
SELECT r.from_contact_id AS source, r.to_contact_id AS target, r.kind
FROM relationships r WHERE r.from_contact_id IN n AND +r.to_contact_id IN n
"""

ORGS_SQL = """
SELECT min(trim(company)) AS label, json_group_array(id) AS members
FROM contacts WHERE id IN (SELECT value FROM json_each(:ids)) AND trim(coalesce(company, '')) != ''
GROUP BY lower(trim(company)) HAVING count(*) >= 2 ORDER BY count(*) DESC, 1
"""


def _clamp(value, default: int, low: int, high: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(low, min(number, high))


def _hops(path: str, kinds: str) -> tuple[list[int], list[str]]:
    return [int(x) for x in path.strip(",").split(",")], kinds.split("\x1f")[:-1]


def shortest_path(
    conn: sqlite3.Connection, source: int, target: int, max_depth: int = PATH_MAX_DEPTH
) -> list[dict] | None:
    """People from `source` to `target` through relationships (either direction), each
    with the kind of link that led to them; None when not connected within `max_depth`."""
    if source == target:
        return [{"id": source, "via": None}]
    found = conn.execute(
        PATH_SQL, {"a": source, "b": target, "a_depth": (max_depth + 1) // 2, "b_depth": max_depth // 2}
    ).fetchone()
    if not found:
        return None
    ahead, ahead_kinds = _hops(found[0], found[1])
    back, back_kinds = _hops(found[2], found[3])  # from the target to the meeting point
    steps = [{"id": i, "via": k} for i, k in zip(ahead, [None] + ahead_kinds)]
    for j in range(len(back) - 2, -1, -1):
        steps.append({"id": back[j], "via": back_kinds[j]})
    return steps


def _select_ids(conn, *, center, depth, tag, circle, limit) -> tuple[dict[int, int | None], bool]:
    """Node ids (with their hop distance from the centre, if any) and whether we cut the list."""
    where = [FILTER_SQL[name] for name, value in (("tag", tag), ("circle", circle)) if value]
    params = {"tag": tag, "circle": circle}
    if center is not None:
        found = conn.execute(NEIGHBOURHOOD_SQL, {"center": center, "depth": depth, "cap": limit * 20}).fetchall()
        depths = dict(found)
        if where and len(depths) > 1:
            keep = {
                r[0]
                for r in conn.execute(
                    "SELECT c.id FROM contacts c WHERE c.id IN (SELECT value FROM json_each(:ids))"
                    " AND " + " AND ".join(where),
                    {**params, "ids": json.dumps(list(depths))},
                )
            }
            depths = {i: d for i, d in depths.items() if i in keep or i == center}
        truncated = len(depths) > limit
        return dict(list(depths.items())[:limit]), truncated
    sql = (
        "SELECT c.id FROM contacts c"
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY c.last_interaction_at DESC, c.id DESC LIMIT :n"
    )
    ids = [r[0] for r in conn.execute(sql, {**params, "n": limit + 1})]
    truncated = len(ids) > limit
    return {i: None for i in ids[:limit]}, truncated


def network(
    conn: sqlite3.Connection, *, center=None, depth=None, tag=None, circle=None, limit=None, path_to=None
) -> dict:
    """Nodes and edges for the graph page; `path_to` adds the shortest path from the user."""
    limit = _clamp(limit, DEFAULT_NODES, 1, MAX_NODES)
    depth = _clamp(depth, 2, 1, MAX_DEPTH)
    center = _clamp(center, None, 1, 2**62) if center not in (None, "") else None
    path_to = _clamp(path_to, None, 1, 2**62) if path_to not in (None, "") else None
    me = me_id(conn)
    depths, truncated = _select_ids(
        conn, center=center, depth=depth, tag=tag or None, circle=circle or None, limit=limit
    )
    if center is None and me is not None and not (tag or circle):
        depths.setdefault(me, None)
    path = None
    if path_to is not None and me is not None:
        path = shortest_path(conn, me, path_to)
        for step in path or []:
            depths.setdefault(step["id"], None)
    ids = json.dumps(list(depths))
    nodes = rows(conn, NODES_SQL, {"ids": ids})
    for node in nodes:
        node.update(kind="person", depth=depths.get(node["id"]), is_me=bool(node["is_me"]))
    nodes.sort(key=lambda n: (n["depth"] is None, n["depth"] or 0, n["id"]))
    names = {n["id"]: n["label"] for n in nodes}
    for step in path or []:
        step["name"] = names.get(step["id"])
    edges = rows(conn, EDGES_SQL, {"ids": ids})
    on_path = set()
    if path:
        hops = [step["id"] for step in path]
        on_path = {frozenset(pair) for pair in zip(hops, hops[1:])}
    for edge in edges:
        edge["on_path"] = frozenset((edge["source"], edge["target"])) in on_path
    for number, org in enumerate(rows(conn, ORGS_SQL, {"ids": ids}), start=1):
        org_id = f"org:{number}"
        nodes.append(
            {
                "id": org_id,
                "label": org["label"],
                "kind": "org",
                "circle": None,
                "company": org["label"],
                "avatar_url": None,
                "is_me": False,
                "depth": None,
            }
        )
        edges.extend(
            {"source": member, "target": org_id, "kind": "works_at", "on_path": False}
            for member in json.loads(org["members"])
        )
    return {
        "nodes": nodes,
        "edges": edges,
        "center": center,
        "depth": depth,
        "filters": {"tag": tag or None, "circle": circle or None},
        "limit": limit,
        "truncated": truncated,
        "me": me,
        "path_to": path_to,
        "path": path,
    }
