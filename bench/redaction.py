"""Benchmark: masking a 2,000-character comment (target: at most 1 ms on average).

Times are CPU time of this thread (`time.thread_time`), so that other processes on a
shared machine inflate them less than wall-clock time; the ratios are the robust figures.

Prints the mean and p99 time to mask realistic comments (with and without personal data)
and ratios against two baselines measured in the same run over the same texts:
`str.lower()` and one pass of a simple regular expression (an e-mail pattern's `findall`).
Then the worst cases: named inputs built to make regular expressions backtrack, and a
search over every unit of one or two pieces of an adversarial alphabet (digits, separators,
"0033", "+33", "FR76", "@", keywords…) repeated to 2,000 characters; the slowest are timed
again and printed as ratios to plain comments timed in the same run.

    .venv/bin/python bench/redaction.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable

from retour.redaction import COMMENT_MAX_LENGTH, clean_comment, mask

N = COMMENT_MAX_LENGTH

# Sentences of the kind citizens write, some with personal data.
PLAIN = [
    "Le bouton Valider ne fait rien à l'étape 3, j'ai essayé avec Firefox et Chrome.",
    "Impossible de téléverser mon justificatif de domicile, le fichier fait pourtant 2 Mo.",
    "Cela fait 3 semaines que ma demande est en cours d'instruction, sans aucune nouvelle.",
    "On m'a prélevé 1 234,56 € le 12/03/2024 alors que j'avais tout réglé en janvier.",
    "La page se recharge et je perds tout ce que j'ai saisi, c'est la quatrième fois.",
    "Le simulateur m'indique un montant de 245 € mais la notification dit 198 €.",
    "Merci pour la rapidité du traitement, tout s'est très bien passé cette fois-ci.",
    "Le lien reçu par courriel a expiré au bout de 15 minutes, c'est trop court.",
    "Je n'arrive pas à trouver où modifier mon adresse après mon déménagement.",
    "Le service est inaccessible entre 22 h et 6 h, ce n'est indiqué nulle part.",
]
PERSONAL = [
    "Vous pouvez me rappeler au 06 12 34 56 78 ou m'écrire à jean.dupont@gmail.com.",
    "Mon dossier n° 2024123456 est bloqué depuis le 3 mars, numéro allocataire 1234567.",
    "Je m'appelle Marie Martin, née le 12/05/1980, j'habite 12 rue de la Paix, 75002 Paris.",
    "Mon numéro de sécurité sociale est 2 92 01 32 012 345 47, vérifiez s'il vous plaît.",
    "Le remboursement doit aller sur FR76 3000 6000 0112 3456 7890 189, pas sur l'ancien.",
]


def comment(sentences: list[str], offset: int) -> str:
    text, index = "", offset
    while len(text) < N:
        text += sentences[index % len(sentences)] + " "
        index += 3
    return text[:N]


REALISTIC = {
    "plain": [comment(PLAIN, i) for i in range(10)],
    # About one sentence in five carries personal data.
    "with personal data": [comment(PLAIN * 2 + PERSONAL, i) for i in range(10)],
    "dense personal data": [comment(PERSONAL, i) for i in range(5)],
}

ADVERSARIAL = {
    "digits": "1" * N,
    "spaced digits": "1 " * (N // 2),
    "dotted digits": "1." * (N // 2),
    "nbsp digits": "1\u202f" * (N // 2),
    "a@": "a@" * (N // 2),
    "a@a.": ("a@a." * N)[:N],
    "letters": "a" * N,
    "local part then @": "a" * (N - 1) + "@",
    "(at)": ("a (at) " * N)[:N],
    "arobase point": ("x arobase y point " * N)[:N],
    "FR76": ("FR76 " * N)[:N],
    "+33": ("+33 " * N)[:N],
    "0033 6": ("0033 6" * N)[:N],
    "2A": ("2A " * N)[:N],
    "AB-123-": ("AB-123-" * N)[:N],
    "12 rue": ("12 rue " * N)[:N],
    "de la": ("1 rue de la " + "de la " * N)[:N],
    "je m'appelle": ("je m'appelle " * N)[:N],
    "Jean Jean…": "je m'appelle " + ("Jean " * N)[: N - 13],
    "né le": ("né le 1/1/" * N)[:N],
    "dossier n°": ("dossier n° " * N)[:N],
    "A1-A1-…": "dossier n° " + ("A1-" * N)[: N - 11],
    "spaces": " " * N,
    "0033- (issue 20)": ("0033-" * N)[:N],
    "arobase-": ("arobase-" * N)[:N],
    "cafcaf…": ("caf" * N)[: N - 5] + "12345",
    "4 4 4 …": ("4 " * N)[:N],
}
# The search's alphabet: what wakes each finder, and the separators they accept.
PIECES = (
    *"0123456789", " ", "  ", ".", "-", " - ", "\u00a0", "\u202f", "\n", ",", "/", "+", "00",
    "0033", "+33", "33", "(0)", "FR76", "FR", "2A", "A", "a", "é", "@", "(at)", "arobase",
    "point", "rue", "de la", "Jean", "né le", "nom :", "caf", "dossier", "DOSSIER", "n°", "réf",
)  # fmt: skip

SIMPLE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def timings(function: Callable[[str], object], texts: list[str], rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for text in texts:
            start = time.thread_time()
            function(text)
            samples.append(time.thread_time() - start)
    return samples


def interleaved(
    functions: list[Callable[[str], object]], texts: list[str], rounds: int
) -> list[list[float]]:
    """Time each function on each text in turn, so that load changes hit all of them alike."""
    samples: list[list[float]] = [[] for _ in functions]
    for _ in range(rounds):
        for text in texts:
            for function, times in zip(functions, samples, strict=True):
                start = time.thread_time()
                function(text)
                times.append(time.thread_time() - start)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.3f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args().rounds

    print(f"masking {N}-character comments, {rounds} rounds each\n")
    print(f"{'texts':<22}{'mask mean':>12}{'mask p99':>12}{'lower()':>12}{'1 regex':>12}"
          f"{'÷ lower':>9}{'÷ regex':>9}")  # fmt: skip
    for name, texts in REALISTIC.items():
        masked, lower, regex = interleaved([mask, str.lower, SIMPLE.findall], texts, rounds)
        mean, base_lower, base_regex = (statistics.fmean(s) for s in (masked, lower, regex))
        ratios = f"{mean / base_lower:>8.0f}×{mean / base_regex:>8.1f}×"
        print(f"{name:<22}{ms(mean):>12}{ms(p99(masked)):>12}{ms(base_lower):>12}"
              f"{ms(base_regex):>12}{ratios}")  # fmt: skip

    # What ingest masks on each request: one sentence, not 2,000 characters.
    print("\none sentence at a time (a typical submission):")
    for name, sentences in (("plain", PLAIN), ("with personal data", PERSONAL)):
        masked, lower, _ = interleaved([mask, str.lower, SIMPLE.findall], sentences, rounds * 20)
        mean, base_lower = statistics.fmean(masked), statistics.fmean(lower)
        print(f"  {name:<20} mask mean {mean * 1e6:6.1f} µs  ({mean / base_lower:,.0f}× lower())")

    cleaned = timings(clean_comment, REALISTIC["with personal data"], rounds)
    print(f"\nclean_comment mean {ms(statistics.fmean(cleaned))}")

    # The search: each unit once (the fastest of 2), then the slowest again, interleaved
    # with plain comments so that both see the same load.
    units = sorted({a + b for a in PIECES for b in PIECES} | set(PIECES))
    candidates = dict(ADVERSARIAL)
    for unit in units:
        candidates[repr(unit)] = (unit * N)[: N - 5] + "12345"  # the digits references need
    first = sorted(
        ((min(timings(mask, [text], 2)), name) for name, text in candidates.items()), reverse=True
    )
    plain = REALISTIC["plain"]
    print(
        f"\nworst cases: {len(candidates)} inputs of {N} characters ({len(ADVERSARIAL)} named,"
        f" {len(units)} units repeated); the 10 slowest, {rounds // 10} rounds each:"
    )
    print(f"  {'input':<22}{'mask mean':>12}{'mask max':>12}{'÷ plain':>10}")
    worst = []
    for _, name in first[:10]:
        (samples,) = interleaved([mask], [candidates[name], plain[0]], rounds // 10)
        masked, base = samples[0::2], statistics.fmean(samples[1::2])  # turn about
        worst.append((statistics.fmean(masked), max(masked), base, name))
    worst.sort(reverse=True)
    for mean, slowest, base, name in worst:
        print(f"  {name:<22}{ms(mean):>12}{ms(slowest):>12}{mean / base:>9.0f}×")
    mean, _, base, name = worst[0]
    print(f"worst case found: {name}, {ms(mean)} a comment, {mean / base:.0f}× a plain comment")


if __name__ == "__main__":
    main()
