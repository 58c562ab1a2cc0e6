"""Search as a doctor types: Chinese, pinyin initials or spelling, English, or an ATC code.

Every drug has ``search_text`` (both names, aliases, pinyin keys and ATC code, lower-cased),
indexed with trigrams (``drugs_search_trgm``). A query matches a drug when it is a substring
of that text ("西林", "amxl", "amoxi", "c08ca"), ranked:

    0  exactly a generic name, its pinyin initials or spelling, or the ATC code
    1  the start of one of those ("氨氯" for 氨氯地平, "aldp", "amlo", "c08")
    2  the start of any word (an alias, "glargine" in "insulin glargine")
    3  anywhere inside

and within a rank by closeness, then shorter names first, then in pinyin order, each form's
strengths together, smaller first. When nothing matches as typed and the query has three
characters or more, the drugs merely close to it are offered instead (word similarity,
``<%``: "amoxcilin", "阿莫西临"; rank 4), so a typo still finds its drug and what really
matches is never crowded by look-alikes. Retired drugs are left out unless an operator asks
for them (and then come after the others).

Plans: the planner picks a sequential scan or the trigram index for the substring query as
the table's size makes cheaper (a query of one or two characters has no trigram to look up).
It does not know how dear word similarity is to compute row by row, so the typo query is
told to use the index (``enable_seqscan`` off in its transaction only); tests/test_plans.py
in this domain shows both plans.
"""

from __future__ import annotations

import unicodedata

import asyncpg

from medmarket.db import Database
from medmarket.errors import InvalidInput

MAX_QUERY_LENGTH = 50
# Shorter queries are matched as typed only: one or two letters are close to everything.
FUZZY_MIN_LENGTH = 3
# word_similarity at which a typo still counts (pg_trgm's default, 0.6, misses "amoxcilin").
FUZZY_THRESHOLD = 0.4

COLUMNS = """
    d.id, d.generic_name_zh, d.generic_name_en, d.aliases, d.dosage_form, d.strength, d.unit,
    d.route, d.atc_code, d.prescription_only, d.special_class, d.cold_chain, d.pinyin_initials,
    d.source,
    d.created_at, d.updated_at, d.retired_at
"""
_ORDER = """
    d.retired_at IS NOT NULL, word_similarity($1, d.search_text) DESC,
    length(d.generic_name_zh), d.pinyin, d.dosage_form,
    split_part(d.strength, '/', 1)::numeric, d.strength, d.id
"""
MATCHES = f"""
    SELECT {COLUMNS},
           CASE
               WHEN d.generic_name_zh = $1 OR lower(d.generic_name_en) = $1
                    OR split_part(d.pinyin_initials, ' ', 1) = $1
                    OR split_part(d.pinyin, ' ', 1) = $1 OR lower(d.atc_code) = $1 THEN 0
               WHEN starts_with(d.generic_name_zh, $1) OR starts_with(lower(d.generic_name_en), $1)
                    OR starts_with(d.pinyin_initials, $1) OR starts_with(d.pinyin, $1)
                    OR starts_with(lower(d.atc_code), $1) THEN 1
               WHEN (' ' || d.search_text) LIKE $3 THEN 2
               ELSE 3
           END AS rank
      FROM drugs d
     WHERE d.search_text LIKE $2 AND ($4 OR d.retired_at IS NULL)
     ORDER BY rank, {_ORDER}
     LIMIT $5
"""  # noqa: S608 - fixed fragments; every value is a parameter
CLOSE = f"""
    SELECT {COLUMNS}, 4 AS rank
      FROM drugs d
     WHERE $1 <% d.search_text AND d.search_text NOT LIKE $2 AND ($3 OR d.retired_at IS NULL)
     ORDER BY {_ORDER}
     LIMIT $4
"""  # noqa: S608 - fixed fragments; every value is a parameter
# For the typo query's transaction only.
_CLOSE_SETTINGS = (
    "SELECT set_config('pg_trgm.word_similarity_threshold', $1, true), "
    "set_config('enable_seqscan', 'off', true)"
)


def normalize_query(text: str) -> str:
    """What the index holds: NFKC (full-width "ＡＭＯ" is "amo"), lower case, single spaces."""
    query = " ".join(unicodedata.normalize("NFKC", text).lower().split())
    if not query:
        raise InvalidInput("type part of a drug's name", field="q", code="required")
    if len(query) > MAX_QUERY_LENGTH:
        raise InvalidInput(f"at most {MAX_QUERY_LENGTH} characters", field="q", code="too-long")
    return query


def _escaped(query: str) -> str:
    return query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def match_arguments(
    query: str, *, limit: int, include_retired: bool
) -> tuple[str, str, str, bool, int]:
    """The parameters of MATCHES for a normalized query."""
    escaped = _escaped(query)
    return query, f"%{escaped}%", f"% {escaped}%", include_retired, limit


def close_arguments(query: str, *, limit: int, include_retired: bool) -> tuple[str, str, bool, int]:
    """The parameters of CLOSE: what MATCHES found is left out."""
    return query, f"%{_escaped(query)}%", include_retired, limit


async def search_drugs(
    db: Database, text: str, *, limit: int, include_retired: bool
) -> list[asyncpg.Record]:
    query = normalize_query(text)
    async with db.transaction() as connection:
        found: list[asyncpg.Record] = await connection.fetch(
            MATCHES, *match_arguments(query, limit=limit, include_retired=include_retired)
        )
        if not found and len(query) >= FUZZY_MIN_LENGTH:
            await connection.execute(_CLOSE_SETTINGS, str(FUZZY_THRESHOLD))
            found = await connection.fetch(
                CLOSE, *close_arguments(query, limit=limit, include_retired=include_retired)
            )
    return found
