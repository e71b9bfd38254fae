"""Import the register of procedures from what a spreadsheet exports (CSV).

Two steps, shared by `retour procedures import` and the console's upload form:
`parse_procedures(data)` reads and checks the whole file and returns rows plus
errors named by line; `apply_import(session, rows)` writes the rows, in the
caller's transaction. A file with any error must not be applied at all.

    result = parse_procedures(uploaded_bytes)
    if not result.ok:
        show([error.message("fr") for error in result.errors])
    else:
        summary = apply_import(session, result.rows, actor_id=user.id, actor_label=user.email)
        session.commit()
"""

from retour.importer.apply import ImportSummary, apply_import
from retour.importer.parse import (
    ImportResult,
    ProcedureRow,
    RowError,
    normalise_origin,
    origin_of,
    parse_procedures,
)

__all__ = [
    "ImportResult",
    "ImportSummary",
    "ProcedureRow",
    "RowError",
    "apply_import",
    "normalise_origin",
    "origin_of",
    "parse_procedures",
]
