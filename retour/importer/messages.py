"""What the import says about a file, in French (the console's language) and English (the CLI's)."""

from __future__ import annotations

from typing import Final

# code → (French, English); `{placeholders}` are filled from RowError.values.
MESSAGES: Final[dict[str, tuple[str, str]]] = {
    "not_utf8": (
        "le fichier n'est pas en UTF-8 (octet illisible) : enregistrez-le au format « CSV UTF-8 »",
        "the file is not UTF-8 (unreadable byte): save it as 'CSV UTF-8'",
    ),
    "empty_file": ("le fichier est vide", "the file is empty"),
    "bad_csv": ("CSV illisible : {detail}", "unreadable CSV: {detail}"),
    "missing_columns": (
        "colonnes obligatoires absentes de l'en-tête : {columns}",
        "required columns missing from the header: {columns}",
    ),
    "duplicate_column": ("colonne « {column} » en double", "column '{column}' appears twice"),
    "too_many_fields": (
        "{count} champs alors que l'en-tête en a {expected} (séparateur ou guillemets ?)",
        "{count} fields but the header has {expected} (separator or quotes?)",
    ),
    "empty": ("« {column} » est vide", "'{column}' is empty"),
    "nul": (
        "« {column} » contient un caractère nul (octet 0) : le fichier est-il bien un CSV ?",
        "'{column}' holds a null character (byte 0): is the file really a CSV?",
    ),
    "bad_id": (
        "identifiant « {value} » invalide : lettres, chiffres, « . », « _ » et « - », "
        "64 caractères au plus, en commençant par une lettre ou un chiffre",
        "id '{value}' is invalid: letters, digits, '.', '_' and '-', at most 64 characters, "
        "starting with a letter or digit",
    ),
    "duplicate_id": (
        "identifiant « {value} » déjà présent ligne {first}",
        "id '{value}' already appears on line {first}",
    ),
    "too_long": (
        "« {column} » dépasse {limit} caractères",
        "'{column}' is longer than {limit} characters",
    ),
    "bad_ministry": (
        "le nom de ministère « {value} » ne contient ni lettre ni chiffre",
        "ministry name '{value}' has no letter or digit",
    ),
    "bad_url": (
        "« {value} » n'est pas une adresse http:// ou https://",
        "'{value}' is not an http:// or https:// URL",
    ),
    # Feedback from other channels (retour.importer.feedback).
    "bad_channel": (
        "canal « {value} » inconnu : guichet, téléphone, courrier ou France Services",
        "unknown channel '{value}': counter, phone, post or france_services",
    ),
    "bad_satisfaction": (
        "satisfaction « {value} » invalide : 1, 2 ou 3 (mal, moyennement, bien)",
        "satisfaction '{value}' is invalid: 1, 2 or 3 (bad, average, good)",
    ),
    "bad_date": (
        "date « {value} » illisible : attendu 2026-03-14 ou 14/03/2026",
        "date '{value}' is unreadable: expected 2026-03-14 or 14/03/2026",
    ),
    "future_date": ("la date « {value} » est dans le futur", "the date '{value}' is in the future"),
    "bad_kind": ("type « {value} » inconnu", "unknown kind '{value}'"),
    "bad_client_id": (
        "client_id « {value} » invalide : attendu un UUID",
        "client_id '{value}' is invalid: expected a UUID",
    ),
    "unknown_procedure": (
        "démarche « {value} » inconnue, archivée ou d’un autre ministère",
        "procedure '{value}' is unknown, archived or another ministry's",
    ),
    "too_many_rows": (
        "plus de {limit} lignes : découpez le fichier",
        "more than {limit} rows: split the file",
    ),
    "bad_origin": (
        "origine « {value} » invalide : attendu schéma://hôte[:port], sans chemin",
        "origin '{value}' is invalid: expected scheme://host[:port], without a path",
    ),
}
