"""The ``filters`` parser and its evaluation over a visit table, against a brute-force reading.

Syntax and operators: https://yandex.ru/dev/metrika/ru/stat/segmentation and
https://yandex.ru/dev/metrika/ru/stat/relations. Hypothesis draws visits and filter trees,
writes each tree as filter text (quoting, escapes, spacing, keyword case and precedence
varied), and checks that the engine's array evaluation keeps exactly the visits a per-visit
evaluation of the tree keeps. The per-visit side has its own reading of every operator.
"""

from __future__ import annotations

import fnmatch
import random
import re
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator.domain import Visit
from emulator.engine.attribution import Attribution
from emulator.engine.filters import FilterError, parse
from emulator.engine.reportnames import parse_dimension
from emulator.engine.segments import segment
from emulator.engine.visits import VisitTable
from emulator.formats.visits import from_records

SOURCES = ["organic", "ad", "social", "direct"]
DETAILS = [None, "Yandex", "Google Ads", "vk.com", "Some Net"]
UTMS = [None, "yandex", "google", "it's", "a\\b", "ya*ndex", "Вконтакте", "yandex direct"]
FIRST_DAY = date(2024, 3, 1)
EXPECTED_ENGINES = {
    ("organic", "Yandex"): "organic.yandex",
    ("ad", "Yandex"): "ad.Yandex",
    ("ad", "Google Ads"): "ad.Google Ads",
    ("social", "vk.com"): "social.vk",
    ("direct", "vk.com"): "direct.vk.com",
}
"""Documented ids (``organic.yandex``) and the emulator's stated rules for the rest."""

TRAFFIC = "ym:s:lastTrafficSource"
ENGINE = "ym:s:lastSourceEngine"
UTM = "ym:s:lastUTMSource"
DATE = "ym:s:date"
SOURCE_OPS = ["==", "!=", "=.", "!."]
DATE_OPS = ["==", "!=", "<", "<=", ">", ">=", "=.", "!."]
TEXT_OPS = ["==", "!=", "<", "<=", ">", ">=", "=@", "!@", "=~", "!~", "=*", "!*", "=.", "!."]
TEXT = st.text(alphabet="ay'\\* dnxДе", max_size=6)
REGEXES = ["^ya", "ndex$", "o+g", ".", "^$", "[a-z]{3}", "'s"]
FRAGMENTS = ["ya", "ndex", "*ndex", "ya*", "a*d*x", "'s", "\\", "*", "Вк"]
"""Parts of the UTM values: substring, prefix and wildcard conditions that match some."""


def engine_of(visit: Visit) -> str | None:
    if visit.source_detail is None:
        return None
    found = EXPECTED_ENGINES.get((visit.traffic_source, visit.source_detail))
    detail = visit.source_detail
    if found is None:
        found = f"{visit.traffic_source}." + (
            detail if visit.traffic_source == "ad" else detail.lower().replace(" ", "_")
        )
    return found


def value_of(attribute: str, visit: Visit) -> str | None:
    return {
        TRAFFIC: visit.traffic_source,
        ENGINE: engine_of(visit),
        UTM: visit.utm_source,
        DATE: visit.start_time.date().isoformat(),
    }[attribute]


def brute_leaf(operator: str, values: list[str], value: str | None) -> bool:
    text = "" if value is None else value
    first = values[0]
    positive = {
        "==": lambda: text == first,
        "<": lambda: text < first,
        "<=": lambda: text <= first,
        ">": lambda: text > first,
        ">=": lambda: text >= first,
        "=@": lambda: first in text,
        "=~": lambda: re.search(first, text) is not None,
        "=*": lambda: fnmatch.fnmatchcase(text, first),
        "=.": lambda: text in values,
    }
    negative = {"!=": "==", "!@": "=@", "!~": "=~", "!*": "=*", "!.": "=."}
    if operator in negative:
        return not positive[negative[operator]]()
    return positive[operator]()


def brute(tree: tuple, visit: Visit) -> bool:
    kind = tree[0]
    if kind == "cond":
        _, attribute, operator, values = tree
        return brute_leaf(operator, values, value_of(attribute, visit))
    if kind == "not":
        return not brute(tree[1], visit)
    results = [brute(child, visit) for child in tree[1]]
    return all(results) if kind == "and" else any(results)


@st.composite
def conditions(draw: st.DrawFn) -> tuple:
    attribute = draw(st.sampled_from([TRAFFIC, ENGINE, UTM, DATE]))
    if attribute == DATE:
        operator = draw(st.sampled_from(DATE_OPS))
        pool = st.integers(-1, 10).map(lambda d: (FIRST_DAY + timedelta(days=d)).isoformat())
    elif attribute == UTM:
        operator = draw(st.sampled_from(TEXT_OPS))
        pool = (
            st.sampled_from(REGEXES)
            if operator in ("=~", "!~")
            else st.one_of(
                st.sampled_from([u for u in UTMS if u]), st.sampled_from(FRAGMENTS), TEXT
            )
        )
    else:
        operator = draw(st.sampled_from(SOURCE_OPS))
        known = SOURCES if attribute == TRAFFIC else list(EXPECTED_ENGINES.values())
        pool = st.one_of(st.sampled_from([*known, "social.some_net", "ad.Some Net"]), TEXT)
    count = draw(st.integers(1, 3)) if operator in ("=.", "!.") else 1
    return ("cond", attribute, operator, [draw(pool) for _ in range(count)])


TREES = st.recursive(
    conditions(),
    lambda children: st.one_of(
        st.tuples(st.just("not"), children),
        st.tuples(st.sampled_from(["and", "or"]), st.lists(children, min_size=2, max_size=3)),
    ),
    max_leaves=6,
)


def quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def render(tree: tuple, rnd: random.Random) -> str:
    """Filter text of ``tree``, with the freedoms the syntax allows drawn from ``rnd``."""
    space = lambda: rnd.choice(["", " ", "  "])  # noqa: E731
    keyword = lambda word: rnd.choice([word, word.lower(), word.title()])  # noqa: E731
    kind = tree[0]
    if kind == "cond":
        _, attribute, operator, values = tree
        items = [
            v if re.fullmatch(r"[a-z0-9.-]+", v) and rnd.random() < 0.3 else quoted(v)
            for v in values
        ]
        text = f"({','.join(items)})" if operator in ("=.", "!.") else items[0]
        return f"{attribute}{space()}{operator}{space()}{text}"
    if kind == "not":
        return f"{keyword('NOT')}{space()}({render(tree[1], rnd)})"
    parts = []
    for child in tree[1]:
        inner = render(child, rnd)
        bare = child[0] in ("cond", "not") or (kind == "or" and child[0] == "and")
        parts.append(inner if bare and rnd.random() < 0.7 else f"({space()}{inner}{space()})")
    return f" {keyword(kind.upper())} ".join(parts)


VISITS = st.lists(
    st.builds(
        dict,
        client=st.integers(1, 4),
        day=st.integers(0, 9),
        source=st.sampled_from(SOURCES),
        detail=st.sampled_from(DETAILS),
        utm=st.sampled_from(UTMS),
    ),
    min_size=1,
    max_size=25,
)


def visit_table(drawn: list[dict]) -> tuple[VisitTable, list[Visit]]:
    visits = [
        Visit(
            visit_id=i + 1,
            client_id=d["client"],
            start_time=datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
            + timedelta(days=d["day"], hours=10),
            traffic_source=d["source"],
            source_detail=d["detail"],
            utm_source=d["utm"],
        )
        for i, d in enumerate(drawn)
    ]
    return VisitTable().with_visits(from_records(visits)), visits


def kept(table: VisitTable, text: str) -> list[bool]:
    found = segment(text, lambda name: parse_dimension(name, Attribution.LAST))
    rows = np.arange(len(table))
    return found.mask(table, rows, table.days("UTC")).tolist()


@settings(max_examples=150, deadline=None)
@given(drawn=VISITS, tree=TREES, seed=st.integers(0, 2**16))
def test_array_evaluation_matches_a_visit_by_visit_reading(drawn, tree, seed):
    """https://yandex.ru/dev/metrika/ru/stat/segmentation: conditions, AND/OR/NOT, quoting."""
    table, visits = visit_table(drawn)
    text = render(tree, random.Random(seed))
    assert kept(table, text) == [brute(tree, v) for v in visits], text


def test_and_binds_tighter_than_or_and_not_negates():
    """https://yandex.ru/dev/metrika/ru/stat/segmentation: ``NOT(ym:s:age!=18)`` and
    ``(A OR B) AND C`` (parentheses set the order)."""
    table, _ = visit_table(
        [
            {"client": 1, "day": 0, "source": "ad", "detail": None, "utm": "yandex"},
            {"client": 2, "day": 1, "source": "organic", "detail": "Yandex", "utm": None},
            {"client": 3, "day": 2, "source": "direct", "detail": None, "utm": "google"},
        ]
    )
    a, b, c = f"{TRAFFIC}=='ad'", f"{TRAFFIC}=='organic'", f"{UTM}!=''"
    assert kept(table, f"{a} OR {b} AND {c}") == [True, False, False]
    assert kept(table, f"({a} OR {b}) AND {c}") == [True, False, False]
    assert kept(table, f"{a} OR ({b} AND NOT({c}))") == [True, True, False]
    assert kept(table, f"not({DATE}>='2024-03-02')") == [True, False, False]
    assert kept(table, f"{ENGINE}=.('organic.yandex')") == [False, True, False]


@pytest.mark.parametrize(
    ("text", "message", "position"),
    [
        ("ym:s:lastTrafficSource", "expected an operator", 23),
        ("ym:s:lastTrafficSource=='ad", "quoted value is not closed", 25),
        ("ym:s:lastTrafficSource=='ad' AND", "expected a condition", 33),
        ("(ym:s:lastTrafficSource=='ad'", "expected ')'", 30),
        ("ym:s:lastTrafficSource=='ad' ym:s:date=='x'", "expected AND, OR", 30),
        ("ym:s:lastTrafficSource=.'ad'", "a list of values", 25),
        ("ym:s:lastTrafficSource=.('a',)", "expected a value", 30),
        ("ym:s:lastUTMSource=~'(('", "bad regular expression", 1),
        ("ym:s:lastTrafficSource=@'ad'", "admits only", 1),
        ("ym:s:date=='2024-13-01'", "takes dates as YYYY-MM-DD", 1),
        ("ym:s:date=@'2024'", "takes dates", 1),
        ("ym:s:visits>'10'", "filters on metrics are not emulated", 1),
        ("ym:s:lastTrafficSource=='a'" + " OR ym:s:date=='2024-01-01'" * 20, "20 conditions", 545),
        ("ym:s:lastUTMSource=.(" + ",".join(["'x'"] * 101) + ")", "100 values", 1),
        ("ym:s:lastUTMSource=='" + "x" * 10_000 + "'", "10000 characters", 10_001),
    ],
)
def test_a_bad_filter_says_what_and_where(text, message, position):
    """https://yandex.ru/dev/metrika/ru/stat/segmentation (syntax and its limits: 20 filters,
    10 000 characters, 100 values per condition)."""
    with pytest.raises(FilterError) as caught:
        segment(text, lambda name: parse_dimension(name, Attribution.LAST))
    assert message in str(caught.value)
    assert caught.value.position == position - 1


def test_more_than_ten_attributes_are_refused():
    """https://yandex.ru/dev/metrika/ru/stat/segmentation: at most 10 unique dimensions."""
    many = " AND ".join(f"ym:s:{m}UTMSource=='x'" for m in ("last", "first", "lastsign")) + (
        " AND " + " AND ".join(f"ym:s:last{d}=='x'" for d in ("UTMMedium", "UTMCampaign"))
    )
    parse(many)  # five attributes: fine
    names = [f"ym:s:{m}{d}" for m in ("last", "first") for d in ("A", "B", "C", "D", "E", "F")]
    with pytest.raises(FilterError, match="more than 10 attributes"):
        parse(" OR ".join(f"{name}=='x'" for name in names))


def test_escapes_and_bare_values():
    """Values quote ``'`` and ``\\`` with ``\\`` (https://yandex.ru/dev/metrika/ru/stat/
    segmentation); an unquoted value is read to the next space (``NOT(ym:s:age!=18)``)."""
    node = parse(r"ym:s:lastUTMSource=.('it\'s','a\\b', 'x\.y') AND ym:s:age!=18")
    assert node.parts[0].values == ("it's", "a\\b", "x\\.y")
    assert node.parts[1].values == ("18",)


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("=='yandex'", [True, False, False, False, False]),
        ("!='yandex'", [False, True, True, True, True]),
        ("=@'ndex'", [True, False, False, True, False]),
        ("!@'ndex'", [False, True, True, False, True]),
        ("=~'^ya'", [True, False, False, True, False]),
        ("!~'x$'", [False, True, True, True, True]),
        ("=*'ya*'", [True, False, False, True, False]),
        ("=*'ndex'", [False, False, False, False, False]),
        ("=*'*ndex'", [True, False, False, False, False]),
        ("!*'*e*'", [False, False, True, False, True]),
        ("=.('google','')", [False, True, False, False, True]),
        ("!.('google','')", [True, False, True, True, False]),
        ("<'h'", [False, True, False, False, True]),
        (">='it'", [True, False, True, True, False]),
    ],
)
def test_each_text_operator(condition, expected):
    """https://yandex.ru/dev/metrika/ru/stat/relations; ``=*`` matches the whole value with
    ``*`` for any run (https://yandex.ru/dev/metrika/ru/stat/segmentation:
    ``=*'https://example.com/tariff/*'``); an undefined UTM compares as ``''``."""
    utms = ["yandex", "google", "it's", "yandex direct", None]
    table, _ = visit_table(
        [{"client": 1, "day": 0, "source": "ad", "detail": None, "utm": u} for u in utms]
    )
    assert kept(table, UTM + condition) == expected
