"""Values taken from requests (ids and procedure ids in paths, ids in forms and query strings,
page numbers, counts), checked before they reach the database or `int()`.

A number too large for its column made the database driver raise (SQLite stores 64-bit
integers, PostgreSQL's `integer` 32 bits), text that `str.isdigit()` accepts but `int()`
refuses ("²", "٣") made `int()` raise, and a NUL character in a procedure id made PostgreSQL
refuse the query: all were 500s. So every such value comes through here:

- a path's id is `{name:id}` (ministries, accounts: `retour.models.MAX_ID`) or `{name:bigid}`
  (submissions: `MAX_BIG_ID`), a procedure's is `{name:procedure}` (its URL-safe shape); a
  value outside these matches no route, which answers 404;
- a form's or a query string's id is `parse_id(value)` or `parse_big_id(value)`: the id, or
  None for anything else, which the page reports as a field error (or ignores, for a filter).

Importing this module registers the convertors: route modules import it before they
declare their routes (Starlette refuses a path with an unknown convertor).
"""

from __future__ import annotations

from typing import Final

from starlette.convertors import Convertor, register_url_convertor

from retour.models import MAX_BIG_ID, MAX_ID, PROCEDURE_ID_SHAPE

# Page numbers of public lists: far beyond the last page, and an offset any database takes.
MAX_PAGE: Final = 1_000_000


def at_most(maximum: int) -> str:
    """A regular expression for the decimal numbers 0 to `maximum` (positive), no sign."""
    digits = str(maximum)
    width = len(digits)
    # Every shorter number, then those as long as `maximum`: its first i digits, a smaller
    # one (no leading zero), and any digits after.
    options = [f"[0-9]{{1,{width - 1}}}"] if width > 1 else []
    for index, digit in enumerate(digits):
        lowest, highest = (1 if index == 0 and width > 1 else 0), int(digit) - 1
        if highest >= lowest:
            rest = width - index - 1
            choice = str(lowest) if lowest == highest else f"[{lowest}-{highest}]"
            tail = "" if not rest else "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
            options.append(f"{digits[:index]}{choice}{tail}")
    options.append(digits)
    return f"(?:{'|'.join(options)})"


class IdConvertor(Convertor[int]):
    """`{name:id}`: an id of an `integer` column (ministries, accounts)."""

    regex = at_most(MAX_ID)
    maximum = MAX_ID

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        if not 0 <= value <= self.maximum:
            raise ValueError(f"not an id: {value}")
        return str(value)


class BigIdConvertor(IdConvertor):
    """`{name:bigid}`: an id of a `bigint` column (submissions)."""

    regex = at_most(MAX_BIG_ID)
    maximum = MAX_BIG_ID


class ProcedureIdConvertor(Convertor[str]):
    """`{name:procedure}`: a procedure's id as the register allows it."""

    regex = PROCEDURE_ID_SHAPE

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id", IdConvertor())
register_url_convertor("bigid", BigIdConvertor())
register_url_convertor("procedure", ProcedureIdConvertor())


def parse_int(value: object, *, maximum: int) -> int | None:
    """The number written in `value` (ASCII digits only, at most `maximum`), else None."""
    text = "" if value is None else str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(maximum)):
        return None
    number = int(text)
    return number if number <= maximum else None


def parse_id(value: object) -> int | None:
    """A ministry's or an account's id from a form or a query string, else None."""
    return parse_int(value, maximum=MAX_ID)


def parse_big_id(value: object) -> int | None:
    """A submission's id from a form or a query string, else None."""
    return parse_int(value, maximum=MAX_BIG_ID)


def parse_page(value: object) -> int:
    """A page number from a query string; page 1 for anything else."""
    return max(1, parse_int(value, maximum=MAX_PAGE) or 1)
